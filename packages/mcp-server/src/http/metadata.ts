import type { Context } from 'hono'
import type { McpConfig } from '../config.ts'
import { resourceUrl } from './resource-url.ts'

/** RFC 9728 protected-resource metadata for /mcp, as the MCP authorization section requires. */
export function protectedResourceMetadata(c: Context, config: McpConfig) {
  return {
    resource: resourceUrl(c, config).href,
    ...(config.authorizationServers.length > 0 ? { authorization_servers: config.authorizationServers } : {}),
    scopes_supported: [config.scope],
    bearer_methods_supported: ['header'],
    resource_name: 'NL2Q Hub',
  }
}
