import type { Context } from 'hono'
import { HTTPException } from 'hono/http-exception'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import type { Problem } from '../api/schemas.ts'
import { type ErrorCode, HubError, isHubError } from '../errors.ts'

export type { Problem }

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
}

export function problemFor(err: HubError, requestId: string, instance?: string): Problem {
  return {
    type: `https://nl2q.dev/problems/${err.code.toLowerCase().replaceAll('_', '-')}`,
    title: TITLES[err.status] ?? 'Error',
    status: err.status,
    detail: err.message,
    code: err.code,
    requestId,
    ...(instance ? { instance } : {}),
    ...(err.details ?? {}),
  }
}

/** Stable codes for the statuses Hono and its validators raise as HTTPException. */
const CODE_BY_STATUS: Partial<Record<number, ErrorCode>> = {
  401: 'UNAUTHENTICATED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  504: 'TIMEOUT',
}

/** Map anything thrown to a HubError; an unknown error is a server fault, never blamed on the client. */
export function toHubError(err: unknown): HubError {
  if (isHubError(err)) return err
  if (err instanceof HTTPException) {
    const status = err.status
    const code = CODE_BY_STATUS[status] ?? (status < 500 ? 'BAD_REQUEST' : 'INTERNAL')
    const message =
      status === 415
        ? 'The request body must be JSON: send it with the header Content-Type: application/json'
        : status < 500
          ? err.message || TITLES[status] || 'Bad request'
          : 'Internal error'
    return new HubError(code, message, { status, cause: err })
  }
  return new HubError(
    'INTERNAL',
    'The hub failed to process the request; the request id identifies it in the logs',
    {
      cause: err,
    },
  )
}

export function problemResponse(c: Context, err: HubError): Response {
  c.set('problem', err)
  const requestId = c.get('requestId') ?? 'unknown'
  const body = problemFor(err, requestId, new URL(c.req.url).pathname)
  const headers = new Headers({ 'content-type': 'application/problem+json' })
  for (const [k, v] of Object.entries(err.headers ?? {})) headers.set(k, v)
  return c.newResponse(JSON.stringify(body), err.status as ContentfulStatusCode, Object.fromEntries(headers))
}

/** Hono `onError`: log server faults with their cause, answer problem+json. */
export function problemHandler(err: Error, c: Context): Response {
  const hubError = toHubError(err)
  const log = c.get('log')
  // 501: the client asked for something the hub does not implement; not a fault of the hub.
  if (hubError.status >= 500 && hubError.status !== 501)
    log?.error({ err: hubError.cause ?? err, code: hubError.code }, 'request failed')
  else log?.debug({ code: hubError.code }, 'request rejected')
  return problemResponse(c, hubError)
}
