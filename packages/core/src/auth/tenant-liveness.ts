import type { Principal } from '../principal.ts'

/**
 * When the authenticator last read a principal's tenant as live (the API key row carries it, a JWT's
 * tenant is looked up): the tenant runtime of the same request need not read it again
 * (tenants/registry.ts). Keyed by the principal object, which the authenticator builds per request.
 */
const readAt = new WeakMap<Principal, number>()

/** How long after the authenticator's read its answer stands in for another (one request's span). */
export const TENANT_LIVENESS_WINDOW_MS = 1000

export function noteTenantLive(principal: Principal, now = Date.now()): void {
  readAt.set(principal, now)
}

/** Whether the authenticator read this principal's tenant as live within the window. */
export function tenantReadLive(principal: Principal, now = Date.now()): boolean {
  const at = readAt.get(principal)
  return at !== undefined && now - at < TENANT_LIVENESS_WINDOW_MS
}
