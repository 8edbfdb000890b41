import type { Context, MiddlewareHandler } from 'hono'
import { HTTPException } from 'hono/http-exception'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import type { Logger } from 'pino'
import {
  type AuditAppendInput,
  type AuditLog,
  type AuditOutcome,
  type RefusalFloods,
  withRequestAuditScope,
} from '../../audit/index.ts'
import type { Authenticator } from '../../auth/authenticator.ts'
import { parseAuthorization } from '../../auth/credentials.ts'
import type { AnonymousLimiter } from '../../auth/middleware.ts'
import { sha256Hex } from '../../canonical/index.ts'
import { toHubError } from '../errors.ts'

export interface RefusalAuditOptions {
  audit: Pick<AuditLog, 'append'>
  /** Names the credential of a request refused before authentication (body limit, MCP Origin). */
  authenticator: Pick<Authenticator, 'check'>
  floods: RefusalFloods
  /**
   * The per-IP budget of failed credentials: a refusal before authentication with an invalid
   * credential spends from it, and beyond it is counted per window instead of written each time.
   */
  limiter?: AnonymousLimiter
  logger: Logger
  /** The rate-limit window: how long a credential's 429s are counted into one event at most. */
  rateLimitWindowSec: number
}

/** A refusal: a client error, or valid syntax the hub does not implement (501). */
const isRefusal = (status: number) => (status >= 400 && status < 500) || status === 501

function outcomeOf(status: number): AuditOutcome {
  if (status === 401) return 'failure'
  if (status === 403 || status === 429) return 'denied'
  return 'invalid'
}

/** The door, as other events name it: `/v1/…` is the API, else the first path segment. */
function channelOf(pathname: string): string {
  const first = pathname.split('/')[1] ?? ''
  return first === 'v1' || first === '' ? 'api' : first.slice(0, 32)
}

/** SHA-256 of method, path, query and the body the route had read (a body it never read is not read now). */
async function argumentHash(c: Context): Promise<string> {
  const url = new URL(c.req.url)
  const body = Object.keys(c.req.bodyCache).length > 0 ? await c.req.text().catch(() => '') : ''
  return sha256Hex(`${c.req.method} ${url.pathname}${url.search}\n${body}`)
}

function codeOf(c: Context, status: number): string {
  const err = c.get('problem') ?? (c.error ? toHubError(c.error) : null)
  if (err && err.status === status) return err.code
  return toHubError(new HTTPException(status as ContentfulStatusCode)).code
}

/** Who carried the credential: the principal, else what the authenticator can say about it. */
async function credentialOf(
  c: Context,
  authenticator: RefusalAuditOptions['authenticator'],
): Promise<{ tenant: string; subject: string | null; credentialId: string | null; reason?: string } | null> {
  const principal = c.get('principal')
  if (principal)
    return { tenant: principal.tenant, subject: principal.subject, credentialId: principal.credential.id }
  const header = c.req.header('authorization')
  if (parseAuthorization(header).scheme === 'none') return null
  const outcome = await authenticator.check(header, { basic: true })
  if (outcome.ok) {
    const p = outcome.principal
    return { tenant: p.tenant, subject: p.subject, credentialId: p.credential.id }
  }
  return {
    tenant: outcome.auditTenant,
    subject: outcome.subject,
    credentialId: outcome.credentialId,
    reason: outcome.reason,
  }
}

/**
 * Every refused request that carries a credential (valid or not) leaves one audit event
 * (`request.refused`: request id, route, status, code, argument hash), unless the code that refused
 * it already audited it (authentication, the hub facade, MCP, the key store: the audit log notes
 * that in the request's scope). 429s are counted per credential and window (see refusal-floods.ts).
 * Requests without any credential are not audited here: they are rate-limited per IP.
 */
export function refusalAudit(options: RefusalAuditOptions): MiddlewareHandler {
  const { audit, authenticator, floods, logger } = options
  return async function refusalAuditMiddleware(c, next) {
    const scope = await withRequestAuditScope(c.get('requestId'), next)
    const status = c.res.status
    if (scope.refusalAudited || !isRefusal(status)) return
    try {
      const who = await credentialOf(c, authenticator)
      if (!who) return
      const pathname = new URL(c.req.url).pathname
      const event: AuditAppendInput = {
        action: 'request.refused',
        resource: `${c.req.method} ${pathname}`.slice(0, 1024),
        outcome: outcomeOf(status),
        subject: who.subject,
        credentialId: who.credentialId,
        requestId: c.get('requestId') ?? null,
        clientIp: c.get('clientIp') ?? null,
        channel: channelOf(pathname),
        detail: {
          status,
          code: codeOf(c, status),
          route: c.req.routePath || null,
          argsHash: await argumentHash(c),
          ...(who.reason ? { credential: who.reason } : {}),
        },
      }
      if (status === 429) {
        const retryAfter = Number(c.res.headers.get('retry-after'))
        const windowSec =
          Number.isFinite(retryAfter) && retryAfter > 0
            ? Math.min(retryAfter, options.rateLimitWindowSec)
            : options.rateLimitWindowSec
        floods.add(who.tenant, who.credentialId ?? who.subject ?? 'unknown', event, windowSec * 1000)
        return
      }
      const clientIp = c.get('clientIp')
      if (who.reason && options.limiter && clientIp) {
        const overBudget = await options.limiter.consumeAnonymous(clientIp).then(
          () => false,
          () => true,
        )
        if (overBudget) {
          const key = `${clientIp}\u0000${who.credentialId ?? who.reason}`
          floods.add(who.tenant, key, event, options.rateLimitWindowSec * 1000)
          return
        }
      }
      await audit.append(who.tenant, event)
    } catch (err) {
      // The refusal stands; a trail that cannot record it is an operator alarm, not a client error.
      logger.error({ err, requestId: c.get('requestId'), status }, 'refusal could not be audited')
    }
  }
}
