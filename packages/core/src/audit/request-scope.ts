import type { AuditOutcome } from './record.ts'

/** What the audit log notes about the request being served (see service/middleware/refusal-audit.ts). */
export interface RequestAuditScope {
  /** Some code already appended a non-success event for this request (auth, hub, MCP, key store). */
  refusalAudited: boolean
}

/**
 * The scopes of the requests being served, by request id. Not an AsyncLocalStorage: on Node 20 one
 * turns on promise hooks for every promise of the process, which cost a cached /v1/ask 15-30 % of
 * its CPU. Every event appended for a request carries its request id, which is enough to find it.
 */
const open = new Map<string, RequestAuditScope[]>()

/**
 * Run `fn` (the rest of the request `requestId`) with a fresh scope and hand back what was noted.
 * Two requests in flight with the same id (a client may choose it) share no scope: events naming
 * that id mark neither, so each audits its own refusal — a record twice rather than none.
 */
export async function withRequestAuditScope(
  requestId: string | undefined,
  fn: () => Promise<void>,
): Promise<RequestAuditScope> {
  const scope: RequestAuditScope = { refusalAudited: false }
  if (requestId === undefined) {
    await fn()
    return scope
  }
  const scopes = open.get(requestId)
  if (scopes) scopes.push(scope)
  else open.set(requestId, [scope])
  try {
    await fn()
  } finally {
    const now = open.get(requestId)
    if (now && now.length > 1) now.splice(now.indexOf(scope), 1)
    else open.delete(requestId)
  }
  return scope
}

/** Called by every `AuditLog.append`, so no refusal is recorded twice whoever audited it first. */
export function noteAuditAppend(requestId: string | null | undefined, outcome: AuditOutcome): void {
  if (outcome === 'success' || !requestId) return
  const scopes = open.get(requestId)
  if (scopes?.length === 1) (scopes[0] as RequestAuditScope).refusalAudited = true
}
