import type { Context } from 'hono'
import type { McpConfig } from '../config.ts'

export const MCP_PATH = '/mcp'
export const PRM_PATH = '/.well-known/oauth-protected-resource'

/** The absolute URL of /mcp: from HUB_PUBLIC_URL, else the request's own (Host-validated) origin. */
export function resourceUrl(c: Context, config: McpConfig): URL {
  if (config.publicUrl) {
    const base = new URL(config.publicUrl)
    if (!base.pathname.endsWith('/')) base.pathname += '/'
    return new URL(MCP_PATH.slice(1), base)
  }
  return new URL(MCP_PATH, new URL(c.req.url).origin)
}

/** RFC 9728 §3.1: the metadata URL inserts the well-known segment between origin and path. */
export function resourceMetadataUrl(c: Context, config: McpConfig): string {
  const resource = resourceUrl(c, config)
  return `${resource.origin}${PRM_PATH}${resource.pathname}`
}

/** The `WWW-Authenticate` challenge for /mcp; the shared middleware appends `error=` when a token was bad. */
export function bearerChallenge(c: Context, config: McpConfig): string {
  return `Bearer resource_metadata="${resourceMetadataUrl(c, config)}"`
}
