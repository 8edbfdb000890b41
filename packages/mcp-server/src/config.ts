import { type HubConfig, HubError } from '@nl2q/core'
import { z } from 'zod'

const csv = z.string().transform((s) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean),
)

/** The environment the MCP connector reads, on top of the hub's own (`HUB_*`). */
export const McpEnvSchema = z.object({
  /** Authorization servers named in the protected-resource metadata (default: HUB_JWT_ISSUER). */
  HUB_OAUTH_AUTHORIZATION_SERVERS: csv.pipe(z.array(z.url())).optional(),
  /** The OAuth scope a JWT must carry to use /mcp (API keys carry no scopes and are granted). */
  HUB_MCP_SCOPE: z
    .string()
    .regex(/^[\x21\x23-\x5B\x5D-\x7E]+$/, 'must be one OAuth scope token')
    .default('mcp'),
  /** Extra host names accepted in the Host header of /mcp (DNS-rebinding protection). */
  HUB_MCP_ALLOWED_HOSTS: csv.default([]),
  /** Rows returned to an assistant per call (the hub's HUB_MAX_ROWS still applies). */
  HUB_MCP_MAX_ROWS: z.coerce.number().int().positive().default(500),
  /** Bytes of row data (as JSON) returned per call; beyond it rows are cut and `truncated` set. */
  HUB_MCP_MAX_BYTES: z.coerce.number().int().min(1024).default(262_144),
})

export interface McpConfig {
  /** Absolute base URL of the hub when configured (HUB_PUBLIC_URL), else the request's own origin. */
  publicUrl: URL | undefined
  authorizationServers: string[]
  scope: string
  /** Host names (no port) accepted in Host. */
  allowedHosts: string[]
  /** Exact origins (scheme://host[:port]) accepted in Origin. */
  allowedOrigins: string[]
  limits: { maxRows: number; maxBytes: number }
}

/** `https://app.example.com/` → `https://app.example.com`; a value that is not a URL is kept as is. */
function originOf(value: string): string {
  return URL.canParse(value) ? new URL(value).origin : value
}

export const LOCAL_HOSTS = ['localhost', '127.0.0.1', '[::1]']

/** Read the connector's settings; a bad variable is named in the error, its value is not echoed. */
export function loadMcpConfig(hub: HubConfig, env: NodeJS.ProcessEnv = process.env): McpConfig {
  const parsed = McpEnvSchema.safeParse(env)
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`)
    throw new HubError('CONFIG_INVALID', `Invalid MCP configuration — ${problems.join('; ')}`)
  }
  const e = parsed.data
  const publicUrl = hub.publicUrl ? new URL(hub.publicUrl) : undefined
  return {
    publicUrl,
    authorizationServers: e.HUB_OAUTH_AUTHORIZATION_SERVERS ?? (hub.auth.issuer ? [hub.auth.issuer] : []),
    scope: e.HUB_MCP_SCOPE,
    allowedHosts: [
      ...new Set([
        ...LOCAL_HOSTS,
        ...(publicUrl ? [publicUrl.hostname] : []),
        ...e.HUB_MCP_ALLOWED_HOSTS.map((h) => h.toLowerCase()),
      ]),
    ],
    allowedOrigins: [
      ...new Set([...hub.corsOrigins.map(originOf), ...(publicUrl ? [publicUrl.origin] : [])]),
    ],
    limits: { maxRows: Math.min(e.HUB_MCP_MAX_ROWS, hub.limits.maxRows), maxBytes: e.HUB_MCP_MAX_BYTES },
  }
}
