import { createHash } from 'node:crypto'
import type { MiddlewareHandler } from 'hono'
import type { Redis } from 'ioredis'
import type { Logger } from 'pino'
import { Counter, type Registry } from 'prom-client'
import {
  type IRateLimiterOptions,
  type RateLimiterAbstract,
  RateLimiterCluster,
  RateLimiterMemory,
  RateLimiterMySQL,
  RateLimiterRedis,
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
  /** HUB_REDIS_URL's client: budgets live in Redis, shared by every replica. */
  redis?: Redis
  /** Namespace of the Redis keys (default `nl2q:rl`). */
  redisPrefix?: string
  logger?: Logger
  /** Where `nl2q_rate_limit_store_failures_total` is registered (the hub's /metrics registry). */
  registry?: Registry
  /**
   * This process is a worker of `hub start --workers N`: without Redis or MySQL, budgets live in the
   * primary's memory (rate-limiter-flexible's cluster limiter, over IPC), one budget for all workers.
   */
  clusterWorker?: boolean
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
 * rate-limiter-flexible limiters: in memory on one process; in Redis (HUB_REDIS_URL) or else in the
 * MySQL metadata store so that every replica spends from one budget. When that shared store fails:
 * - a credential's budget falls back to a per-replica in-memory limiter (`insuranceLimiter`), so
 *   signed-in users keep working with at most replicas × their limit until the store is back;
 * - the anonymous per-IP budget fails closed (503): it guards the credential-guessing path, where
 *   a per-replica budget would multiply an attacker's tries.
 * Both are logged (once per outage) and counted in `nl2q_rate_limit_store_failures_total`.
 */
export function createRateLimiter(options: RateLimiterOptions): HubRateLimiter {
  const { config, metadata, redis, logger } = options
  const windowSec = config.rateLimit.windowSec
  const settings = cachedSettings(
    options.tenants ?? metadataSettingsSource(metadata),
    options.settingsTtlMs ?? 10_000,
  )
  const limiters = new Map<string, RateLimiterAbstract>()
  const failures = options.registry
    ? new Counter({
        name: 'nl2q_rate_limit_store_failures_total',
        help: 'Rate-limit decisions taken while the shared store (Redis or MySQL) failed, by policy and outcome',
        labelNames: ['policy', 'outcome'],
        registers: [options.registry],
      })
    : undefined
  let degraded = false
  let fallbacks = 0
  function storeFailed(policy: string, outcome: 'fallback' | 'refused'): void {
    fallbacks++
    failures?.inc({ policy, outcome })
    if (!degraded)
      logger?.error(
        { policy, outcome },
        outcome === 'fallback'
          ? 'rate-limit store unreachable: per-replica limits for credentials until it is back'
          : 'rate-limit store unreachable: refusing anonymous requests until it is back',
      )
    degraded = true
  }

  /** The insurance limiter runs only when the store failed: count and log each of its decisions. */
  function fallback(base: IRateLimiterOptions, policy: string): RateLimiterMemory {
    const memory = new RateLimiterMemory(base)
    const consume = memory.consume.bind(memory)
    memory.consume = (key, points, opts) => {
      storeFailed(policy, 'fallback')
      return consume(key, points, opts)
    }
    return memory
  }

  function limiter(policy: string, keyPrefix: string, points: number): RateLimiterAbstract {
    const id = `${keyPrefix}:${points}`
    let l = limiters.get(id)
    if (!l) {
      const base = { keyPrefix, points, duration: windowSec }
      // anonymous traffic gets no insurance: a store error reaches consume() and is a 503
      const insuranceLimiter = policy === 'anonymous' ? undefined : fallback(base, policy)
      const ds = metadata.ds
      l = redis
        ? new RateLimiterRedis({
            ...base,
            keyPrefix: `${options.redisPrefix ?? 'nl2q:rl'}:${keyPrefix}`,
            storeClient: redis,
            insuranceLimiter,
          })
        : ds.config.dialect === 'mysql'
          ? new RateLimiterMySQL({
              ...base,
              storeClient: metadata.knex,
              storeType: 'knex',
              dbName: ds.config.connection.database,
              tableName: RATE_LIMIT_TABLE,
              tableCreated: true,
              insuranceLimiter,
            })
          : options.clusterWorker
            ? // the primary keeps one memory limiter per key prefix: the prefix must carry the points
              new RateLimiterCluster({ ...base, keyPrefix: id, timeoutMs: 5000 })
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
      const before = fallbacks
      const res = await limiter(policy, keyPrefix, points).consume(key)
      if (degraded && fallbacks === before && (redis || metadata.ds.config.dialect === 'mysql')) {
        degraded = false
        logger?.info('rate-limit store reachable again: budgets are shared across replicas')
      }
      return state(res)
    } catch (err) {
      if (!(err instanceof RateLimiterRes)) {
        storeFailed(policy, 'refused')
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
