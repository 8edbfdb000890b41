/**
 * One error class for the whole hub. `code` is a stable string that clients can branch on;
 * `message` is safe to show a client; anything sensitive (SQL, parameters, paths, secrets)
 * goes in `cause`, which is logged but never serialised into a response.
 */
export const ErrorCode = {
  BadRequest: 'BAD_REQUEST',
  ValidationFailed: 'VALIDATION_FAILED',
  Unauthenticated: 'UNAUTHENTICATED',
  InvalidToken: 'INVALID_TOKEN',
  Forbidden: 'FORBIDDEN',
  InsufficientScope: 'INSUFFICIENT_SCOPE',
  NotFound: 'NOT_FOUND',
  MethodNotAllowed: 'METHOD_NOT_ALLOWED',
  NotAcceptable: 'NOT_ACCEPTABLE',
  Conflict: 'CONFLICT',
  PayloadTooLarge: 'PAYLOAD_TOO_LARGE',
  UnsupportedMediaType: 'UNSUPPORTED_MEDIA_TYPE',
  RateLimited: 'RATE_LIMITED',
  Timeout: 'TIMEOUT',
  QueryTimeout: 'QUERY_TIMEOUT',
  Unanswerable: 'UNANSWERABLE',
  ReadOnly: 'READ_ONLY',
  UnknownField: 'UNKNOWN_FIELD',
  Ambiguous: 'AMBIGUOUS',
  SqlRejected: 'SQL_REJECTED',
  NotImplemented: 'NOT_IMPLEMENTED',
  AuditUnavailable: 'AUDIT_UNAVAILABLE',
  Unavailable: 'SERVICE_UNAVAILABLE',
  DataSourceUnavailable: 'DATA_SOURCE_UNAVAILABLE',
  TenantBusy: 'TENANT_BUSY',
  Internal: 'INTERNAL',
  Config: 'CONFIG_INVALID',
} as const
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode]

const defaultStatus: Record<ErrorCode, number> = {
  BAD_REQUEST: 400,
  VALIDATION_FAILED: 400,
  UNAUTHENTICATED: 401,
  INVALID_TOKEN: 401,
  FORBIDDEN: 403,
  INSUFFICIENT_SCOPE: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  NOT_ACCEPTABLE: 406,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  TIMEOUT: 504,
  QUERY_TIMEOUT: 504,
  UNANSWERABLE: 422,
  READ_ONLY: 422,
  UNKNOWN_FIELD: 422,
  AMBIGUOUS: 422,
  SQL_REJECTED: 422,
  NOT_IMPLEMENTED: 501,
  AUDIT_UNAVAILABLE: 503,
  SERVICE_UNAVAILABLE: 503,
  DATA_SOURCE_UNAVAILABLE: 503,
  TENANT_BUSY: 503,
  INTERNAL: 500,
  CONFIG_INVALID: 500,
}

export interface HubErrorOptions {
  status?: number
  cause?: unknown
  /** Extra members for the problem document (safe for clients), e.g. suggestions or field errors. */
  details?: Record<string, unknown>
  headers?: Record<string, string>
}

export class HubError extends Error {
  readonly code: ErrorCode
  readonly status: number
  readonly details: Record<string, unknown> | undefined
  readonly headers: Record<string, string> | undefined

  constructor(code: ErrorCode, message: string, options: HubErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'HubError'
    this.code = code
    this.status = options.status ?? defaultStatus[code]
    this.details = options.details
    this.headers = options.headers
  }
}

export function isHubError(err: unknown): err is HubError {
  return err instanceof HubError
}
