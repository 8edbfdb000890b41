import { type HubConfig, HubError, type HubInfo } from '@nl2q/core'
import { z } from 'zod'

const csv = z.string().transform((s) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean),
)

/** The MCP connector's config section: `HUB_MCP_<KEY>` (validated at start-up, named on error). */
export const McpConfigSchema = z.object({
  /** Authorization servers named in the protected-resource metadata (default: HUB_JWT_ISSUER). */
  AUTHORIZATION_SERVERS: csv.pipe(z.array(z.url())).optional(),
  /** The OAuth scope a JWT must carry to use /mcp (API keys carry no scopes and are granted). */
  SCOPE: z
    .string()
    .regex(/^[\x21\x23-\x5B\x5D-\x7E]+$/, 'must be one OAuth scope token')
    .default('mcp'),
  /** Extra host names accepted in the Host header of /mcp (DNS-rebinding protection). */
  ALLOWED_HOSTS: csv.default([]),
  /** Rows returned to an assistant per call (the hub's HUB_MAX_ROWS still applies). */
  MAX_ROWS: z.coerce.number().int().positive().default(500),
  /** Bytes of row data (as JSON) returned per call; beyond it rows are cut and `truncated` set. */
  MAX_BYTES: z.coerce.number().int().min(1024).default(262_144),
})
export type McpSection = z.output<typeof McpConfigSchema>

/** The one key whose variable predates the `HUB_MCP_` rule. */
export const MCP_CONFIG_ENV = { AUTHORIZATION_SERVERS: 'HUB_OAUTH_AUTHORIZATION_SERVERS' } as const

/** The same section under its environment names (stdio reads them itself). */
export const McpEnvSchema = z.object({
  HUB_OAUTH_AUTHORIZATION_SERVERS: McpConfigSchema.shape.AUTHORIZATION_SERVERS,
  HUB_MCP_SCOPE: McpConfigSchema.shape.SCOPE,
  HUB_MCP_ALLOWED_HOSTS: McpConfigSchema.shape.ALLOWED_HOSTS,
  HUB_MCP_MAX_ROWS: McpConfigSchema.shape.MAX_ROWS,
  HUB_MCP_MAX_BYTES: McpConfigSchema.shape.MAX_BYTES,
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

/** The hub facts the MCP settings depend on (what a connector context's `hub.info` holds). */
type HubFacts = Pick<HubInfo, 'publicUrl' | 'jwtIssuer' | 'corsOrigins'> & { limits: { maxRows: number } }

/** The MCP settings from the validated section and the hub's public facts. */
export function mcpConfigOf(e: McpSection, hub: HubFacts): McpConfig {
  const publicUrl = hub.publicUrl ? new URL(hub.publicUrl) : undefined
  return {
    publicUrl,
    authorizationServers: e.AUTHORIZATION_SERVERS ?? (hub.jwtIssuer ? [hub.jwtIssuer] : []),
    scope: e.SCOPE,
    allowedHosts: [
      ...new Set([
        ...LOCAL_HOSTS,
        ...(publicUrl ? [publicUrl.hostname] : []),
        ...e.ALLOWED_HOSTS.map((h) => h.toLowerCase()),
      ]),
    ],
    allowedOrigins: [
      ...new Set([...hub.corsOrigins.map(originOf), ...(publicUrl ? [publicUrl.origin] : [])]),
    ],
    limits: { maxRows: Math.min(e.MAX_ROWS, hub.limits.maxRows), maxBytes: e.MAX_BYTES },
  }
}

/** Read the settings from the environment (stdio); a bad variable is named, its value not echoed. */
export function loadMcpConfig(hub: HubConfig, env: NodeJS.ProcessEnv = process.env): McpConfig {
  const parsed = McpEnvSchema.safeParse(env)
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`)
    throw new HubError('CONFIG_INVALID', `Invalid MCP configuration — ${problems.join('; ')}`)
  }
  const e = parsed.data
  return mcpConfigOf(
    {
      AUTHORIZATION_SERVERS: e.HUB_OAUTH_AUTHORIZATION_SERVERS,
      SCOPE: e.HUB_MCP_SCOPE,
      ALLOWED_HOSTS: e.HUB_MCP_ALLOWED_HOSTS,
      MAX_ROWS: e.HUB_MCP_MAX_ROWS,
      MAX_BYTES: e.HUB_MCP_MAX_BYTES,
    },
    {
      publicUrl: hub.publicUrl,
      jwtIssuer: hub.auth.issuer,
      corsOrigins: hub.corsOrigins,
      limits: hub.limits,
    },
  )
}
