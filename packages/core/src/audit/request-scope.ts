import { AsyncLocalStorage } from 'node:async_hooks'
import type { AuditOutcome } from './record.ts'

/** What the audit log notes about the request being served (see service/middleware/refusal-audit.ts). */
export interface RequestAuditScope {
  /** Some code already appended a non-success event for this request (auth, hub, MCP, key store). */
  refusalAudited: boolean
}

const storage = new AsyncLocalStorage<RequestAuditScope>()

/** Run `fn` (the rest of a request) in a fresh scope and hand back what was noted. */
export async function withRequestAuditScope(fn: () => Promise<void>): Promise<RequestAuditScope> {
  const scope: RequestAuditScope = { refusalAudited: false }
  await storage.run(scope, fn)
  return scope
}

/** Called by every `AuditLog.append`, so no refusal is recorded twice whoever audited it first. */
export function noteAuditAppend(outcome: AuditOutcome): void {
  const scope = storage.getStore()
  if (scope && outcome !== 'success') scope.refusalAudited = true
}
