import type { McpHttpHandler } from '@modelcontextprotocol/server'
import { defineConnector } from '@nl2q/core'
import { MCP_CONFIG_ENV, McpConfigSchema, mcpConfigOf } from './config.ts'
import { mountMcp } from './http/routes.ts'

/**
 * The MCP connector: `/mcp` (Streamable HTTP, stateless) and its OAuth protected-resource metadata,
 * behind the hub's shared auth, rate limit and audit. Its settings are its config section
 * (`HUB_MCP_*`, and `HUB_OAUTH_AUTHORIZATION_SERVERS`); each call returns an independent connector.
 */
export function createMcpConnector() {
  const handlers = new Set<McpHttpHandler>()
  return defineConnector({
    name: 'mcp',
    config: McpConfigSchema,
    configEnv: MCP_CONFIG_ENV,
    routes(app, ctx) {
      handlers.add(mountMcp(app, ctx, mcpConfigOf(ctx.config.defaults, ctx.hub.info)))
    },
    async close() {
      await Promise.all([...handlers].map((h) => h.close()))
      handlers.clear()
    },
  })
}
