import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { z } from 'zod'
import { HubError } from '../errors.ts'
import { SecretKeySchema } from '../secrets/secret-key.ts'

const csv = z.string().transform((s) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean),
)

const bool = z
  .enum(['0', '1', 'true', 'false', 'yes', 'no', 'on', 'off'])
  .transform((v) => ['1', 'true', 'yes', 'on'].includes(v))

const port = z.coerce.number().int().min(0).max(65535)
const positiveInt = z.coerce.number().int().positive()

/** The environment the hub reads; every secret also has a `<NAME>_FILE` variant. */
export const EnvSchema = z.object({
  PORT: port.default(8080),
  HOST: z.string().default('0.0.0.0'),
  HUB_HOME: z.string().default('./.nl2q'),
  HUB_DATABASE_URL: z
    .string()
    .regex(/^(sqlite:|mysql:\/\/|mariadb:\/\/)/, 'must be sqlite:<path> or mysql://user:pass@host/db')
    .optional(),
  HUB_REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'must be redis://[user:pass@]host[:port][/db] or rediss://…')
    .optional(),
  HUB_PUBLIC_URL: z.url().optional(),
  HUB_JWT_ISSUER: z.string().optional(),
  HUB_JWT_AUDIENCE: z.string().optional(),
  HUB_JWKS_URL: z.url().optional(),
  HUB_JWT_PUBLIC_KEY: z.string().optional(),
  HUB_JWT_SECRET: z.string().min(32, 'must be at least 32 characters (256 bits) for HS256').optional(),
  HUB_JWT_ALGORITHMS: csv.optional(),
  HUB_JWT_TENANT_CLAIM: z.string().default('tenant'),
  HUB_JWT_ROLES_CLAIM: z.string().default('roles'),
  HUB_JWT_CLOCK_TOLERANCE: z.coerce.number().int().min(0).max(300).default(30),
  /** Seconds (`3600`) or a span with a unit (`90s`, `30m`, `1h`, `1d`). */
  HUB_JWT_MAX_AGE: z
    .string()
    .regex(/^\s*\d{1,9}\s*[smhd]?\s*$/i, "must be seconds or a number with a unit s, m, h or d (e.g. '1h')")
    .transform((v) => {
      const m = /^(\d+)([smhd]?)$/i.exec(v.trim().replace(/\s+/g, '')) as RegExpExecArray
      const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86_400 }[(m[2] ?? '').toLowerCase()] ?? 1
      return Number(m[1]) * unit
    })
    .pipe(z.number().int().positive('must be more than zero'))
    .optional(),
  HUB_DEMO: bool.default(true),
  HUB_CORS_ORIGINS: csv.default([]),
  HUB_TRUSTED_PROXIES: csv.default([]),
  HUB_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  HUB_RATE_LIMIT: positiveInt.default(100),
  HUB_RATE_LIMIT_WINDOW: positiveInt.default(60),
  HUB_RATE_LIMIT_ANON: positiveInt.default(10),
  HUB_BODY_LIMIT: positiveInt.default(1_048_576),
  HUB_REQUEST_TIMEOUT_MS: positiveInt.default(30_000),
  HUB_QUERY_TIMEOUT_MS: positiveInt.default(15_000),
  /** One streamed read (an export) as a whole, however many rows it carries. */
  HUB_STREAM_TIMEOUT_MS: positiveInt.default(3_600_000),
  HUB_MAX_ROWS: positiveInt.default(10_000),
  HUB_SQLITE_WORKERS: positiveInt.optional(),
  HUB_TENANT_MAX_QUERIES: positiveInt.default(4),
  HUB_TENANT_MAX_QUEUED: z.coerce.number().int().min(0).default(32),
  HUB_SHUTDOWN_GRACE_MS: positiveInt.default(10_000),
  HUB_JOB_DISPATCH_TIMEOUT_MS: positiveInt.default(5_000),
  HUB_HEADERS_TIMEOUT_MS: positiveInt.default(10_000),
  HUB_KEEPALIVE_TIMEOUT_MS: positiveInt.default(5_000),
  HUB_MAX_CONNECTIONS: z.coerce.number().int().min(0).default(1_000),
  HUB_METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  HUB_METRICS_PORT: port.optional(),
  /** Interface of the HUB_METRICS_PORT listener: loopback unless an operator opens it on purpose. */
  HUB_METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  HUB_CONNECTORS: csv.optional(),
  HUB_AUDIT_CHECKPOINT_MS: positiveInt.default(60_000),
  HUB_AUDIT_CHECKPOINT_EVENTS: positiveInt.default(1000),
  /** AES-256-GCM key for secrets at rest (tenant database URLs); default: HUB_HOME/secret.key. */
  HUB_SECRET_KEY: SecretKeySchema.optional(),
  /** Older keys, comma-separated, that still decrypt during a rotation (`hub secrets rotate`). */
  HUB_SECRET_KEY_PREVIOUS: csv.pipe(z.array(SecretKeySchema)).optional(),
  HUB_CACHE_TTL_MS: z.coerce.number().int().min(0).default(60_000),
  HUB_CACHE_MAX_ENTRIES: z.coerce.number().int().min(0).default(1000),
  HUB_CACHE_MAX_ROWS: z.coerce.number().int().min(0).default(1000),
  /** Parsed questions kept (0 disables the plan cache); see docs/architecture.md, Throughput. */
  HUB_PLAN_CACHE_MAX_ENTRIES: z.coerce.number().int().min(0).default(5000),
})

const SECRET_VARS = [
  'HUB_DATABASE_URL',
  'HUB_REDIS_URL',
  'HUB_JWT_SECRET',
  'HUB_JWT_PUBLIC_KEY',
  'HUB_SECRET_KEY',
  'HUB_SECRET_KEY_PREVIOUS',
  'HUB_METRICS_TOKEN',
] as const

export interface HubConfig {
  port: number
  host: string
  home: string
  databaseUrl: string
  /**
   * HUB_REDIS_URL (a secret: may carry a password): shared state of several replicas (rate limits,
   * cache invalidation) and connector jobs on BullMQ; undefined = per process.
   */
  redisUrl: string | undefined
  /** HUB_JOB_DISPATCH_TIMEOUT_MS: how long handing a job run to BullMQ may take (Redis down). */
  jobDispatchTimeoutMs: number
  publicUrl: string | undefined
  demo: boolean
  corsOrigins: string[]
  trustedProxies: string[]
  /** Connector packages to load; undefined = the default ones that are installed. */
  connectors: string[] | undefined
  logLevel: z.infer<typeof EnvSchema>['HUB_LOG_LEVEL']
  auth: {
    issuer: string | undefined
    audience: string | undefined
    jwksUrl: string | undefined
    publicKey: string | undefined
    secret: string | undefined
    algorithms: string[] | undefined
    tenantClaim: string
    rolesClaim: string
    clockToleranceSec: number
    /** HUB_JWT_MAX_AGE: refuse tokens issued (`iat`) longer ago than this; requires `iat`. */
    maxAgeSec: number | undefined
  }
  rateLimit: { points: number; windowSec: number; anonymousPoints: number }
  /** Audit chain heads are signed every `auditCheckpointMs` or `auditCheckpointEvents`, whichever first. */
  auditCheckpointMs: number
  auditCheckpointEvents: number
  /** Key for secrets at rest; undefined = the key file in HUB_HOME (generated on first use). */
  secrets: { key: Buffer | undefined; previous: Buffer[] }
  /** Result cache (0 disables); entries are keyed by tenant, roles, attributes and plan. */
  cache: { ttlMs: number; maxEntries: number; maxRows: number }
  /** Plan cache: parsed questions by tenant, model version, question, asOf day and policy inputs. */
  planCache: { maxEntries: number }
  limits: {
    bodyBytes: number
    requestTimeoutMs: number
    queryTimeoutMs: number
    streamTimeoutMs: number
    maxRows: number
    shutdownGraceMs: number
    /** SQLite query worker processes (default: CPUs, at least 2). */
    sqliteWorkers: number | undefined
    /** Per-tenant bulkhead: queries running at once, and waiting beyond those. */
    tenantMaxQueries: number
    tenantMaxQueued: number
    /** Node server: the request head must arrive within this (slow-client protection). */
    headersTimeoutMs: number
    keepAliveTimeoutMs: number
    /** Open connections accepted at once; 0 = no cap. */
    maxConnections: number
  }
  /**
   * Prometheus `/metrics`: with a token, served on the public port to `Authorization: Bearer
   * <token>` only; with a port, served there (and, without a token, not on the public port). With
   * neither, not served at all: metric labels name tenants. The metrics port listens on `host`
   * (HUB_METRICS_HOST, default 127.0.0.1), not on the public HOST.
   */
  metrics: { token: string | undefined; port: number | undefined; host: string }
}

/** Resolve `<NAME>_FILE` variants: the file's content (trimmed) becomes the variable's value. */
function withFileSecrets(env: NodeJS.ProcessEnv): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = { ...env }
  for (const name of SECRET_VARS) {
    const file = env[`${name}_FILE`]
    if (file && out[name] === undefined) {
      try {
        out[name] = readFileSync(file, 'utf8').trim()
      } catch (cause) {
        throw new HubError('CONFIG_INVALID', `${name}_FILE: cannot read the file it names`, { cause })
      }
    }
  }
  return out
}

/** Read and validate the configuration; a bad variable is named in the error, its value is not echoed. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): HubConfig {
  const parsed = EnvSchema.safeParse(withFileSecrets(env))
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`)
    throw new HubError('CONFIG_INVALID', `Invalid configuration — ${problems.join('; ')}`)
  }
  const e = parsed.data
  const keyVars = [e.HUB_JWKS_URL, e.HUB_JWT_PUBLIC_KEY, e.HUB_JWT_SECRET].filter(Boolean).length
  if (keyVars > 1) {
    throw new HubError(
      'CONFIG_INVALID',
      'Invalid configuration — set only one of HUB_JWKS_URL, HUB_JWT_PUBLIC_KEY, HUB_JWT_SECRET',
    )
  }
  if (keyVars === 1 && (!e.HUB_JWT_ISSUER || !e.HUB_JWT_AUDIENCE)) {
    throw new HubError(
      'CONFIG_INVALID',
      'Invalid configuration — HUB_JWT_ISSUER and HUB_JWT_AUDIENCE are required when JWTs are enabled',
    )
  }
  const home = resolve(e.HUB_HOME)
  return {
    port: e.PORT,
    host: e.HOST,
    home,
    databaseUrl: e.HUB_DATABASE_URL ?? `sqlite:${resolve(home, 'hub.sqlite')}`,
    redisUrl: e.HUB_REDIS_URL,
    jobDispatchTimeoutMs: e.HUB_JOB_DISPATCH_TIMEOUT_MS,
    publicUrl: e.HUB_PUBLIC_URL,
    demo: e.HUB_DEMO,
    corsOrigins: e.HUB_CORS_ORIGINS,
    trustedProxies: e.HUB_TRUSTED_PROXIES,
    connectors: e.HUB_CONNECTORS,
    logLevel: e.HUB_LOG_LEVEL,
    auth: {
      issuer: e.HUB_JWT_ISSUER,
      audience: e.HUB_JWT_AUDIENCE,
      jwksUrl: e.HUB_JWKS_URL,
      publicKey: e.HUB_JWT_PUBLIC_KEY,
      secret: e.HUB_JWT_SECRET,
      algorithms: e.HUB_JWT_ALGORITHMS,
      tenantClaim: e.HUB_JWT_TENANT_CLAIM,
      rolesClaim: e.HUB_JWT_ROLES_CLAIM,
      clockToleranceSec: e.HUB_JWT_CLOCK_TOLERANCE,
      maxAgeSec: e.HUB_JWT_MAX_AGE,
    },
    auditCheckpointMs: e.HUB_AUDIT_CHECKPOINT_MS,
    auditCheckpointEvents: e.HUB_AUDIT_CHECKPOINT_EVENTS,
    secrets: { key: e.HUB_SECRET_KEY, previous: e.HUB_SECRET_KEY_PREVIOUS ?? [] },
    cache: { ttlMs: e.HUB_CACHE_TTL_MS, maxEntries: e.HUB_CACHE_MAX_ENTRIES, maxRows: e.HUB_CACHE_MAX_ROWS },
    planCache: { maxEntries: e.HUB_PLAN_CACHE_MAX_ENTRIES },
    rateLimit: {
      points: e.HUB_RATE_LIMIT,
      windowSec: e.HUB_RATE_LIMIT_WINDOW,
      anonymousPoints: e.HUB_RATE_LIMIT_ANON,
    },
    limits: {
      bodyBytes: e.HUB_BODY_LIMIT,
      requestTimeoutMs: e.HUB_REQUEST_TIMEOUT_MS,
      queryTimeoutMs: e.HUB_QUERY_TIMEOUT_MS,
      streamTimeoutMs: e.HUB_STREAM_TIMEOUT_MS,
      maxRows: e.HUB_MAX_ROWS,
      shutdownGraceMs: e.HUB_SHUTDOWN_GRACE_MS,
      sqliteWorkers: e.HUB_SQLITE_WORKERS,
      tenantMaxQueries: e.HUB_TENANT_MAX_QUERIES,
      tenantMaxQueued: e.HUB_TENANT_MAX_QUEUED,
      headersTimeoutMs: e.HUB_HEADERS_TIMEOUT_MS,
      keepAliveTimeoutMs: e.HUB_KEEPALIVE_TIMEOUT_MS,
      maxConnections: e.HUB_MAX_CONNECTIONS,
    },
    metrics: { token: e.HUB_METRICS_TOKEN, port: e.HUB_METRICS_PORT, host: e.HUB_METRICS_HOST },
  }
}
