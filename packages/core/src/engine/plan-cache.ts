import { planHash } from '../canonical/index.ts'
import type { PlannedQuestion } from './nl/planner.ts'
import { createKeyedCache } from './result-cache.ts'

/** A parsed question, shared by every request that asks it again: never mutate it. */
export interface CachedPlan {
  readonly planned: PlannedQuestion
  /** planHash(planned.plan), computed once: the result cache and the audit record key on it. */
  readonly planHash: string
}

export interface PlanCacheKey {
  tenant: string
  /** Changes whenever the tenant's runtime (model, lexicon, value index) is rebuilt. */
  modelVersion: number
  question: string
  /** The asOf given, or today's date (UTC) the planner would resolve relative dates against. */
  asOfDay: string
  /** policyKey(principal): roles and attributes decide which fields the lexicon knows. */
  policy: string
}

/**
 * The planner's input, whitespace-normalised: runs of whitespace collapse to one space (the
 * tokenizer skips whitespace, and only its presence, not its length, marks words apart).
 * Questions over the planner's length limit are never cached, so collapsing cannot let one in.
 */
export function normaliseQuestion(question: string): string {
  return question.trim().replace(/\s+/g, ' ')
}

const PLANNER_MAX_CHARS = 500

/**
 * Parsed questions by (tenant, model version, normalised question, asOf day, policy inputs), so a
 * repeated question is not tokenised, scanned and assembled again. Only successful plans are kept
 * (a refusal is cheap to repeat and carries suggestions worth recomputing). Entries are deeply
 * frozen; `invalidate(tenant)` runs with the result cache's (model refresh, tenant change, and a
 * peer's refresh over Redis pub/sub).
 */
export function createPlanCache(options: { maxEntries: number; ttlMs?: number; now?: () => number }) {
  const cache = createKeyedCache<CachedPlan>({
    maxEntries: options.maxEntries,
    // a day at most: asOf-relative plans already key on the day
    ttlMs: options.ttlMs ?? 86_400_000,
    now: options.now,
  })
  let hits = 0
  let misses = 0
  const keyOf = (k: PlanCacheKey) =>
    `${k.tenant}\u0000${k.modelVersion}\u0000${k.policy}\u0000${k.asOfDay}\u0000${normaliseQuestion(k.question)}`
  return {
    /** The cached plan, or `plan()` run, frozen and stored; `plan` throws refusals through. */
    getOrPlan(key: PlanCacheKey, plan: () => PlannedQuestion): { entry: CachedPlan; hit: boolean } {
      if (key.question.length > PLANNER_MAX_CHARS || options.maxEntries <= 0) {
        misses++
        const planned = plan()
        return { entry: { planned, planHash: planHash(planned.plan) }, hit: false }
      }
      const k = keyOf(key)
      const found = cache.get(k)
      if (found) {
        hits++
        return { entry: found, hit: true }
      }
      misses++
      const planned = deepFreeze(plan())
      const entry: CachedPlan = Object.freeze({ planned, planHash: planHash(planned.plan) })
      cache.set(k, key.tenant, entry)
      return { entry, hit: false }
    },
    invalidate: (tenant?: string) => cache.invalidate(tenant),
    stats: () => ({ hits, misses, size: cache.size }),
  }
}

export type PlanCache = ReturnType<typeof createPlanCache>

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const v of Object.values(value)) deepFreeze(v)
  }
  return value
}
