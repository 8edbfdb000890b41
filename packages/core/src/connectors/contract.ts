import type { OpenAPIHono } from '@hono/zod-openapi'
import type { Command } from 'commander'
import type { Context, MiddlewareHandler } from 'hono'
import type { Logger } from 'pino'
import type { z } from 'zod'
import type { Role } from '../principal.ts'
import type { BoundHub, TenantAudit } from './bound-hub.ts'
import type { ConnectorMetrics } from './connector-metrics.ts'
import type { ConnectorSecrets } from './secret-store.ts'
import type { ConnectorState } from './state-store.ts'

export interface HealthCheck {
  name: string
  ok: boolean
  detail?: string
}

/** The shared security path, handed to connectors so that every door uses the same one. */
export interface SecurityMiddleware {
  /**
   * Verify the credential and set `c.var.principal`. `challenge` customises the
   * `WWW-Authenticate` header (e.g. MCP's `resource_metadata`); `basic` accepts HTTP Basic with
   * an API key as the password (what Power BI sends).
   */
  authenticate(options?: {
    basic?: boolean
    challenge?: (c: Parameters<MiddlewareHandler>[0]) => string
    /** Recorded in audit events of failed authentications (`mcp`, `odata`, …). */
    channel?: string
  }): MiddlewareHandler
  /** Per-credential rate limit (after authenticate). */
  rateLimit: MiddlewareHandler
  requireRole(...roles: Role[]): MiddlewareHandler
}

/** Public facts about the hub a connector may need (no secrets, no handles). */
export interface HubInfo {
  /** HUB_PUBLIC_URL when set: the absolute base of links a connector renders. */
  publicUrl: string | undefined
  /** The hub's JWT issuer, if JWTs are accepted. */
  jwtIssuer: string | undefined
  corsOrigins: string[]
  limits: { maxRows: number; bodyBytes: number }
}

/** A connector's config section: a zod object over the suffixes of `HUB_<NAME>_*`. */
export type ConfigSchema = z.ZodObject
export type ConfigOf<S extends ConfigSchema> = z.output<S>

/** Everything bound to one (connector, tenant, principal): a job run, a CLI operator, or a request. */
export interface TenantScope<C> {
  /** The audited data API bound to the principal; no tenant parameter anywhere. */
  hub: BoundHub
  /** Key/value and small tables of this connector for this tenant only. */
  state: ConnectorState
  /** This connector's credentials for this tenant (read-only here; written by operators). */
  secrets: ConnectorSecrets
  /** Append events to this tenant's audit chain only. */
  audit: TenantAudit
  /** The connector's config: env `HUB_<NAME>_*` overlaid with the tenant's connector settings. */
  config: C
  logger: Logger
  metrics: ConnectorMetrics
}

/** Per-request doors for routes: each binds to the authenticated principal of `c` (401 without one). */
export interface RouteContext<C> {
  /**
   * `signal` replaces the request's abort signal (e.g. combined with a protocol-level cancel);
   * `channel` names a sub-door in the audit (`<name>-<suffix>`, e.g. `crm-widget`; default `<name>`).
   */
  hub: { for(c: Context, options?: { signal?: AbortSignal; channel?: string }): BoundHub; info: HubInfo }
  state: { for(c: Context): ConnectorState }
  secrets: { for(c: Context): ConnectorSecrets }
  audit: { for(c: Context, options?: { channel?: string }): TenantAudit }
  /** `defaults` from env (validated at start-up); `for(c)` adds the caller's tenant settings. */
  config: { defaults: C; for(c: Context): Promise<C> }
  logger: Logger
  metrics: ConnectorMetrics
  security: SecurityMiddleware
}

/** `setup` runs once per start, before the server listens; it must be idempotent. */
export interface SetupContext<C> {
  config: C
  logger: Logger
  metrics: ConnectorMetrics
  hub: { info: HubInfo }
}

/** A finished run of a job, as kept in the run history (`hub job history`). */
export interface JobRunRecord {
  id: string
  status: 'running' | 'succeeded' | 'failed'
  result: Record<string, unknown> | null
  error: { code: string; message: string } | null
}

/** CLI sub-commands; `open(tenant)` binds a scope to the local operator of that tenant. */
export interface CommandContext<C> {
  logger: Logger
  open(tenant: string): Promise<TenantScope<C> & { close(): Promise<void> }>
  /**
   * Run one of this connector's jobs now for a tenant, exactly as `hub job run` does (lease, run
   * history, audited as the tenant's integration principal), and wait for it.
   */
  runJob(
    tenant: string,
    job: string,
    input: unknown,
    options?: { onProgress?: (done: number, total?: number, message?: string) => void },
  ): Promise<JobRunRecord>
  /** Run one of this connector's jobs for a tenant on a cron schedule (`hub job schedule`). */
  scheduleJob(tenant: string, job: string, input: unknown, cron: string): Promise<void>
}

export interface JobContext<C> extends TenantScope<C> {
  runId: string
  /** Aborts when the run's lease is lost or the hub shuts down: stop and throw. */
  signal: AbortSignal
  /** Report progress (a bar on the operator's terminal, `progress` in BullMQ). */
  progress(done: number, total?: number, message?: string): void
}

/** A named unit of work with a typed input, run now (`hub job run`) or on a cron schedule. */
export interface Job<C = unknown, I extends z.ZodType = z.ZodType> {
  description?: string
  input: I
  /** The result is stored in the run history (keep it small). */
  run(input: z.output<I>, ctx: JobContext<C>): Promise<Record<string, unknown> | undefined>
}

/** A JWT whose signature, issuer, audience and time claims verified, for a tenant that exists. */
export interface VerifiedToken {
  tenant: string
  issuer: string
  subject: string
  /** Every claim of the token, read-only. */
  claims: Readonly<Record<string, unknown>>
}

/** Roles and row attributes a connector grants a verified token; merged with the token's own. */
export interface GrantedClaims {
  roles: Role[]
  attributes: Record<string, string[]>
}

/** What `mapClaims` may use: the tenant's config and this connector's secrets for that tenant. */
export interface ClaimsContext<C> {
  config: C
  secrets: ConnectorSecrets
  logger: Logger
  metrics: ConnectorMetrics
}

/** A connector plug-in: a package whose default export is `defineConnector({...})`. */
export interface Connector<S extends ConfigSchema = ConfigSchema> {
  /** Lower-case letters and digits: the audit channel, the state namespace and `HUB_<NAME>_*`. */
  name: string
  /** Other connectors' state tables this one reads (same tenant, read-only): `state.peer(c, t)`. */
  reads?: readonly { connector: string; table: string }[]
  /** The connector's config section; each key is read from `HUB_<NAME>_<KEY in upper case>`. */
  config?: S
  /** Env names kept for keys whose variable predates the `HUB_<NAME>_` rule. */
  configEnv?: Partial<Record<keyof ConfigOf<S> & string, string>>
  setup?(ctx: SetupContext<ConfigOf<S>>): Promise<void>
  /** Mount routes. Use `ctx.security` on every route that serves data. */
  routes?(app: OpenAPIHono, ctx: RouteContext<ConfigOf<S>>): void
  /** CLI sub-commands (`hub <name> …`). */
  commands?(cli: Command, ctx: CommandContext<ConfigOf<S>>): void
  jobs?: Record<string, Job<ConfigOf<S>>>
  /**
   * Grant roles and attributes to a verified JWT of a tenant (e.g. from directory groups), called on
   * every JWT authentication before the role check. Return undefined when the token is not this
   * connector's to map (another issuer, no mapping configured). Throw a HubError to refuse the token
   * (fail closed); `details.reason` becomes the audit reason `claims_<reason>`.
   */
  mapClaims?(token: VerifiedToken, ctx: ClaimsContext<ConfigOf<S>>): Promise<GrantedClaims | undefined>
  /** Joins /health/ready. */
  healthCheck?(): Promise<HealthCheck>
  /** Called on graceful shutdown. */
  close?(): Promise<void>
}

export const CONNECTOR_NAME = /^[a-z][a-z0-9]{1,30}$/

export function defineConnector<S extends ConfigSchema = ConfigSchema>(
  connector: Connector<S>,
): Connector<S> {
  return connector
}

/** A job with its input type inferred from its schema. */
export function defineJob<I extends z.ZodType, C = unknown>(job: Job<C, I>): Job<C, I> {
  return job
}
