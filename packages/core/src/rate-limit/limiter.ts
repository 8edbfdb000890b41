import { createHash } from 'node:crypto'
import type { MiddlewareHandler } from 'hono'
import {
  type RateLimiterAbstract,
  RateLimiterMemory,
  RateLimiterMySQL,
  RateLimiterRes,
} from 'rate-limiter-flexible'
import type { HubConfig } from '../config/index.ts'
import { HubError } from '../errors.ts'
import type { MetadataStore } from '../metadata/store.ts'
import type { Principal } from '../principal.ts'
import { type RateLimitState, rateLimitHeaders } from './headers.ts'
import {
  cachedSettings,
  limitFor,
  metadataSettingsSource,
  type TenantSettingsSource,
} from './tenant-limits.ts'

export interface RateLimiterOptions {
  config: Pick<HubConfig, 'rateLimit'>
  metadata: MetadataStore
  /** Per-tenant overrides (the tenant registry); default: read `tenants.settings` directly. */
  tenants?: TenantSettingsSource
  /** How long a tenant's settings are reused (default 10 s). */
  settingsTtlMs?: number
}

export interface HubRateLimiter {
  /** Spend one request of the principal's budget; throws RATE_LIMITED (429) when it is used up. */
  consumePrincipal(principal: Principal): Promise<RateLimitState>
  /** Spend one of the client IP's budget for credential-less or failed requests. */
  consumeAnonymous(ip: string): Promise<RateLimitState>
  /** After authenticate: per-credential budget, IETF RateLimit headers on every response. */
  middleware(): MiddlewareHandler
  close(): Promise<void>
}

export const RATE_LIMIT_TABLE = 'nl2q_rate_limits'

/** One identity, one budget: a JWT user across all their tokens, an API key by its id. */
function principalKey(p: Principal): string {
  const who =
    p.credential.kind === 'jwt'
      ? createHash('sha256')
          .update(`${p.credential.issuer ?? ''}\n${p.subject}`)
          .digest('hex')
          .slice(0, 40)
      : p.credential.id
  return `${p.tenant}:${p.credential.kind}:${who}`
}

/**
 * rate-limiter-flexible limiters: in memory on SQLite (one process), RateLimiterMySQL on the
 * metadata store's pool when it is MySQL, so that every replica spends from one budget. If the
 * shared store fails, an in-memory insurance limiter keeps limiting rather than failing open.
 */
export function createRateLimiter(options: RateLimiterOptions): HubRateLimiter {
  const { config, metadata } = options
  const windowSec = config.rateLimit.windowSec
  const settings = cachedSettings(
    options.tenants ?? metadataSettingsSource(metadata),
    options.settingsTtlMs ?? 10_000,
  )
  const limiters = new Map<string, RateLimiterAbstract>()

  function limiter(keyPrefix: string, points: number): RateLimiterAbstract {
    const id = `${keyPrefix}:${points}`
    let l = limiters.get(id)
    if (!l) {
      const base = { keyPrefix, points, duration: windowSec }
      const ds = metadata.ds
      l =
        ds.config.dialect === 'mysql'
          ? new RateLimiterMySQL({
              ...base,
              storeClient: metadata.knex,
              storeType: 'knex',
              dbName: ds.config.connection.database,
              tableName: RATE_LIMIT_TABLE,
              tableCreated: true,
              insuranceLimiter: new RateLimiterMemory(base),
            })
          : new RateLimiterMemory(base)
      limiters.set(id, l)
    }
    return l
  }

  async function consume(
    policy: string,
    keyPrefix: string,
    key: string,
    points: number,
  ): Promise<RateLimitState> {
    const state = (res: RateLimiterRes): RateLimitState => ({
      policy,
      limit: points,
      remaining: res.remainingPoints,
      windowSec,
      resetSec: Math.ceil(res.msBeforeNext / 1000),
    })
    try {
      return state(await limiter(keyPrefix, points).consume(key))
    } catch (err) {
      if (!(err instanceof RateLimiterRes)) {
        throw new HubError('SERVICE_UNAVAILABLE', 'The rate limiter is unavailable', { cause: err })
      }
      const s = state(err)
      throw new HubError('RATE_LIMITED', `Rate limit of ${points} requests per ${windowSec} s exceeded`, {
        headers: { 'Retry-After': String(Math.max(1, s.resetSec)), ...rateLimitHeaders(s) },
        details: { retryAfterSec: Math.max(1, s.resetSec) },
      })
    }
  }

  const hub: HubRateLimiter = {
    async consumePrincipal(principal) {
      const points = limitFor(principal, await settings.settings(principal.tenant), config.rateLimit.points)
      return consume('default', 'cred', principalKey(principal), points)
    },
    consumeAnonymous(ip) {
      return consume('anonymous', 'ip', ip, config.rateLimit.anonymousPoints)
    },
    middleware() {
      return async function rateLimit(c, next) {
        const principal = c.get('principal')
        if (!principal) throw new HubError('UNAUTHENTICATED', 'Authentication required')
        const state = await hub.consumePrincipal(principal)
        for (const [name, value] of Object.entries(rateLimitHeaders(state))) c.header(name, value)
        await next()
      }
    },
    async close() {
      limiters.clear()
    },
  }
  return hub
}
