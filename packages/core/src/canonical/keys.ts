import type { QueryPlan } from '../engine/plan.ts'
import type { Principal } from '../principal.ts'
import { canonicalHash } from './canonical-json.ts'

/** The hash of a plan the audit records and the result cache keys on (key order is irrelevant). */
export function planHash(plan: QueryPlan): string {
  return canonicalHash(plan)
}

/**
 * Every input of the row and column policy — tenant, roles and attributes, normalised (sorted,
 * without duplicates) — as one hash. Two principals with equal keys see exactly the same rows and
 * columns, so caches and shared executions may key on it; anything else must not.
 */
export function policyKey(principal: Principal): string {
  const roles = [...new Set(principal.roles)].sort()
  const attributes = Object.fromEntries(
    Object.entries(principal.attributes).map(([k, v]) => [k, [...new Set(v)].sort()]),
  )
  return canonicalHash({ tenant: principal.tenant, roles, attributes })
}
