import { planHash, policyKey } from '../canonical/index.ts'
import type { Principal } from '../principal.ts'
import type { QueryPlan } from './plan.ts'

/**
 * A small TTL + LRU cache of query results. The key holds the tenant and every policy input (roles
 * and attributes, normalised) besides the plan, so two principals who may see different rows never
 * share an entry, and one tenant's entries never answer another's.
 */
export interface ResultCache<T> {
  get(principal: Principal, plan: QueryPlan, extra?: string): T | undefined
  set(principal: Principal, plan: QueryPlan, value: T, extra?: string): void
  /** Drop one tenant's entries (after a re-seed or model change), or everything. */
  invalidate(tenant?: string): void
  readonly size: number
}

export interface ResultCacheOptions {
  ttlMs: number
  maxEntries: number
  now?: () => number
}

/** The tenant, every policy input and the plan (both canonical hashes), and what else shapes the result. */
export function cacheKey(principal: Principal, plan: QueryPlan, extra = ''): string {
  return `${principal.tenant}\u0000${policyKey(principal)}\u0000${planHash(plan)}\u0000${extra}`
}

/** The TTL + LRU map under the result and plan caches, by a key the caller builds. */
export interface KeyedCache<T> {
  get(key: string): T | undefined
  set(key: string, tenant: string, value: T): void
  invalidate(tenant?: string): void
  readonly size: number
}

export function createKeyedCache<T>(options: ResultCacheOptions): KeyedCache<T> {
  const now = options.now ?? Date.now
  const entries = new Map<string, { value: T; expires: number; tenant: string }>()
  return {
    get(key) {
      const e = entries.get(key)
      if (!e) return undefined
      if (e.expires <= now()) {
        entries.delete(key)
        return undefined
      }
      // refresh recency
      entries.delete(key)
      entries.set(key, e)
      return e.value
    },
    set(key, tenant, value) {
      if (options.maxEntries <= 0 || options.ttlMs <= 0) return
      entries.delete(key)
      entries.set(key, { value, expires: now() + options.ttlMs, tenant })
      while (entries.size > options.maxEntries) {
        const oldest = entries.keys().next().value
        if (oldest === undefined) break
        entries.delete(oldest)
      }
    },
    invalidate(tenant) {
      if (tenant === undefined) entries.clear()
      else for (const [k, e] of entries) if (e.tenant === tenant) entries.delete(k)
    },
    get size() {
      return entries.size
    },
  }
}

export function createResultCache<T>(options: ResultCacheOptions): ResultCache<T> {
  const cache = createKeyedCache<T>(options)
  return {
    get: (principal, plan, extra) => cache.get(cacheKey(principal, plan, extra)),
    set: (principal, plan, value, extra) =>
      cache.set(cacheKey(principal, plan, extra), principal.tenant, value),
    invalidate: (tenant) => cache.invalidate(tenant),
    get size() {
      return cache.size
    },
  }
}
