import type { Principal } from '../principal.ts'
import type { RequestContext } from '../request-context.ts'
import type { AuditEventInput } from './event-input.ts'
import type { AuditAppendInput } from './record.ts'

/** The audit input for an event done by `principal` (or nobody) within a request. */
export function auditEventFor(
  principal: Principal | null,
  ctx: Pick<RequestContext, 'requestId' | 'clientIp' | 'channel'>,
  event: AuditEventInput,
): AuditAppendInput {
  return {
    ...event,
    subject: principal?.subject ?? null,
    credentialId: principal ? `${principal.credential.kind}:${principal.credential.id}` : null,
    requestId: ctx.requestId,
    clientIp: ctx.clientIp,
    channel: ctx.channel,
  }
}
