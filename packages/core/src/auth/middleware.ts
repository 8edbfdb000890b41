import type { Context, MiddlewareHandler } from 'hono'
import { type AuditAppendInput, type AuditLog, HUB_AUDIT_TENANT, type RefusalFloods } from '../audit/index.ts'
import { HubError, isHubError } from '../errors.ts'
import { hasRole, type Role } from '../principal.ts'
import type { Authenticator, AuthFailure } from './authenticator.ts'
import { queryCredentialParam } from './credentials.ts'

/** The part of the rate limiter authenticate needs: the per-IP budget of failed/anonymous requests. */
export interface AnonymousLimiter {
  /** Resolves when within budget; throws HubError('RATE_LIMITED') with Retry-After when not. */
  consumeAnonymous(ip: string): Promise<unknown>
}

export interface AuthenticateOptions {
  authenticator: Authenticator
  audit: Pick<AuditLog, 'append'>
  /** Counts failed and credential-less requests per client IP (default: no IP budget). */
  limiter?: AnonymousLimiter
  /** Accept HTTP Basic with an API key as the password (Power BI). */
  basic?: boolean
  /** The `WWW-Authenticate` challenge (default `Bearer realm="nl2q"`), e.g. MCP's resource_metadata. */
  challenge?: (c: Context) => string
  /** Recorded in audit events (`api`, `mcp`, `odata`, …). */
  channel?: string
  /**
   * Failures refused by the per-IP budget (429) are counted here, one event per client and
   * credential per window, instead of one event each (default: one event each).
   */
  floods?: Pick<RefusalFloods, 'add'>
}

function challengeHeader(c: Context, options: AuthenticateOptions, failure: AuthFailure): string {
  const base = options.challenge?.(c) ?? 'Bearer realm="nl2q"'
  const error =
    failure.reason === 'missing'
      ? ''
      : failure.error.status === 403
        ? ', error="insufficient_scope"'
        : ', error="invalid_token"'
  return `${base}${error}${options.basic ? ', Basic realm="nl2q", charset="UTF-8"' : ''}`
}

/**
 * Verify the caller's credential and set `c.var.principal`. Refuses credentials in the query
 * string. Every failure is audited (see AuthFailure.auditTenant for which chain) before the 401/403
 * is thrown; if the audit write fails the caller gets AUDIT_UNAVAILABLE instead.
 */
export function authenticate(options: AuthenticateOptions): MiddlewareHandler {
  const { authenticator, audit, limiter, channel = 'api' } = options
  return async function authenticateMiddleware(c, next) {
    const param = queryCredentialParam(c.req.url)
    const outcome = param
      ? ({
          ok: false,
          reason: 'credentials_in_query',
          error: new HubError(
            'UNAUTHENTICATED',
            `Credentials are not accepted in the query string (${param}); send an Authorization header`,
            { details: { reason: 'credentials_in_query' } },
          ),
          auditTenant: HUB_AUDIT_TENANT,
          subject: null,
          credentialId: null,
        } satisfies AuthFailure)
      : await authenticator.check(c.req.header('authorization'), { basic: options.basic === true })
    if (outcome.ok) {
      c.set('principal', outcome.principal)
      await next()
      return
    }
    const clientIp = c.get('clientIp') ?? null
    const serverFault = outcome.error.status >= 500
    let refusal: HubError = serverFault
      ? outcome.error
      : new HubError(outcome.error.code, outcome.error.message, {
          status: outcome.error.status,
          cause: outcome.error.cause,
          details: outcome.error.details,
          headers: { ...outcome.error.headers, 'WWW-Authenticate': challengeHeader(c, options, outcome) },
        })
    if (limiter && clientIp && !serverFault) {
      try {
        await limiter.consumeAnonymous(clientIp)
      } catch (err) {
        if (!isHubError(err)) throw err
        refusal = err
      }
    }
    const event: AuditAppendInput = {
      action: 'auth.failed',
      resource: `${c.req.method} ${new URL(c.req.url).pathname}`.slice(0, 1024),
      outcome: serverFault ? 'error' : outcome.error.status === 403 ? 'denied' : 'failure',
      subject: outcome.subject,
      credentialId: outcome.credentialId,
      requestId: c.get('requestId') ?? null,
      clientIp,
      channel,
      detail: { reason: outcome.reason, ...(refusal.code === 'RATE_LIMITED' ? { rateLimited: true } : {}) },
    }
    if (refusal.code === 'RATE_LIMITED' && options.floods) {
      const retryAfterSec = Number(refusal.headers?.['Retry-After'] ?? 1)
      const who = `${clientIp}\u0000${outcome.credentialId ?? outcome.reason}`
      options.floods.add(outcome.auditTenant, who, event, Math.max(1, retryAfterSec) * 1000)
    } else {
      await audit.append(outcome.auditTenant, event)
    }
    throw refusal
  }
}

/** Allow the route only to principals holding one of `roles` (after authenticate). */
export function requireRole(...roles: Role[]): MiddlewareHandler {
  return async function requireRoleMiddleware(c, next) {
    const principal = c.get('principal')
    if (!principal) throw new HubError('UNAUTHENTICATED', 'Authentication required')
    if (!hasRole(principal, ...roles)) {
      throw new HubError('FORBIDDEN', `This needs one of the roles: ${roles.join(', ')}`)
    }
    await next()
  }
}
