import { ErrorCode, HubError, type Principal, PrincipalSchema } from '@nl2q/core'

/** The in-process hub's HTTP face; only `request` is used. */
export interface InProcessApp {
  request(path: string, init?: RequestInit): Response | Promise<Response>
}

const CODES = new Set<string>(Object.values(ErrorCode))

/**
 * Verify an API key through the embedded hub's own shared middleware (authenticate → rate limit)
 * by asking it `GET /v1/me`: the same authenticator, rate limiter and auth-failure audit as any
 * HTTP caller, with revocation and expiry effective on the next call.
 */
export function createKeyGate(app: InProcessApp, apiKey: string) {
  return async function authorize(signal?: AbortSignal): Promise<Principal> {
    const res = await app.request('/v1/me', {
      headers: { authorization: `Bearer ${apiKey}`, accept: 'application/json' },
      ...(signal ? { signal } : {}),
    })
    const body: unknown = await res.json().catch(() => null)
    if (res.ok) return PrincipalSchema.parse(body)
    const problem = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>
    const code =
      typeof problem.code === 'string' && CODES.has(problem.code) ? problem.code : 'UNAUTHENTICATED'
    const detail = typeof problem.detail === 'string' ? problem.detail : 'The API key was not accepted'
    const retryAfter = res.headers.get('retry-after')
    throw new HubError(code as ErrorCode, detail, {
      status: res.status,
      ...(retryAfter ? { details: { retryAfterSeconds: Number(retryAfter) } } : {}),
    })
  }
}
