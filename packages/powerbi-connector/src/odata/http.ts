import { HubError, toHubError } from '@nl2q/core'
import type { Context, MiddlewareHandler } from 'hono'

/** Headers, content negotiation and the OData error format for every response of the feed. */
export const ODATA_VERSION = '4.0'
export const JSON_MINIMAL = 'application/json;odata.metadata=minimal'

export interface Negotiated {
  /** Int64 and Decimal as strings (`IEEE754Compatible=true` on Accept or $format). */
  ieee754: boolean
  contentType: string
}

interface MediaRange {
  type: string
  params: Record<string, string>
  q: number
}

function parseAccept(header: string | undefined): MediaRange[] {
  if (!header) return []
  return header.split(',').flatMap((part) => {
    const [type, ...rest] = part.split(';').map((s) => s.trim())
    if (!type) return []
    const params: Record<string, string> = {}
    for (const p of rest) {
      const [k, v] = p.split('=').map((s) => s.trim())
      if (k) params[k.toLowerCase()] = (v ?? '').toLowerCase()
    }
    const q = params.q === undefined ? 1 : Number(params.q)
    return [{ type: type.toLowerCase(), params, q: Number.isFinite(q) ? q : 0 }]
  })
}

const notAcceptable = (what: string) =>
  new HubError('NOT_ACCEPTABLE', `This resource is available as ${what} only`)

/** JSON resources: honour $format and Accept (406 when JSON is not acceptable). */
export function negotiateJson(c: Context): Negotiated {
  const format = c.req.query('$format')
  let ieee754 = false
  if (format !== undefined) {
    const [type, ...params] = format.split(';').map((s) => s.trim().toLowerCase())
    if (type !== 'json' && type !== 'application/json') throw notAcceptable('JSON ($format=json)')
    ieee754 = params.includes('ieee754compatible=true')
  } else {
    const ranges = parseAccept(c.req.header('accept'))
    if (ranges.length > 0) {
      const json = ranges
        .filter((r) => r.q > 0 && ['application/json', 'application/*', '*/*'].includes(r.type))
        .sort((a, b) => b.q - a.q)
      if (json.length === 0) throw notAcceptable(JSON_MINIMAL)
      ieee754 = json.some((r) => r.params.ieee754compatible === 'true')
    }
  }
  return { ieee754, contentType: ieee754 ? `${JSON_MINIMAL};IEEE754Compatible=true` : JSON_MINIMAL }
}

/** `Prefer: odata.maxpagesize=N` (N ≥ 1), or undefined. */
export function preferredPageSize(c: Context): number | undefined {
  const prefer = c.req.header('prefer')
  if (!prefer) return undefined
  const m = /(?:^|[,;\s])odata\.maxpagesize\s*=\s*"?(\d{1,9})"?/i.exec(prefer)
  const n = m?.[1] ? Number(m[1]) : NaN
  return Number.isSafeInteger(n) && n >= 1 ? n : undefined
}

/** OData JSON error body (4.0 JSON Format §21) with the request id for support. */
export function odataErrorBody(err: HubError, requestId: string): string {
  return JSON.stringify({
    error: {
      code: err.code,
      message: err.message,
      innererror: { requestId, status: err.status },
    },
  })
}

export function odataErrorResponse(c: Context, err: HubError): Response {
  const requestId = c.get('requestId') ?? 'unknown'
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'odata-version': ODATA_VERSION,
    'x-request-id': requestId,
    ...(err.headers ?? {}),
  }
  return new Response(odataErrorBody(err, requestId), { status: err.status, headers })
}

/** The feed's onError: log server faults, answer OData error JSON (never problem+json). */
export function odataErrorHandler(err: Error, c: Context): Response {
  const hubError = toHubError(err)
  const log = c.get('log')
  // 501: the client asked for something the hub does not implement; not a fault of the hub.
  if (hubError.status >= 500 && hubError.status !== 501)
    log?.error({ err: hubError.cause ?? err, code: hubError.code }, 'odata request failed')
  else log?.debug({ code: hubError.code }, 'odata request rejected')
  return odataErrorResponse(c, hubError)
}

/**
 * First middleware of the feed: every response carries exactly one `OData-Version: 4.0`, and any
 * problem+json produced by the shared middleware (auth, rate limit) becomes an OData error with the
 * same status and headers (WWW-Authenticate, Retry-After, RateLimit).
 */
export function odataEnvelope(): MiddlewareHandler {
  return async function odataEnvelopeMiddleware(c, next) {
    await next()
    const res = c.res
    if ((res.headers.get('content-type') ?? '').startsWith('application/problem+json')) {
      let problem: { code?: string; detail?: string; status?: number } = {}
      try {
        problem = (await res.clone().json()) as typeof problem
      } catch {
        // keep defaults
      }
      const headers = new Headers(res.headers)
      headers.set('content-type', 'application/json')
      headers.delete('content-length')
      const err = new HubError('INTERNAL', problem.detail ?? res.statusText ?? 'Error', {
        status: res.status,
      })
      const body = JSON.parse(odataErrorBody(err, c.get('requestId') ?? 'unknown')) as {
        error: { code: string }
      }
      body.error.code = problem.code ?? body.error.code
      c.res = undefined
      c.res = new Response(JSON.stringify(body), { status: res.status, headers })
    }
    c.res.headers.set('odata-version', ODATA_VERSION)
  }
}
