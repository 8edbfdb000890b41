import { HubError } from '../errors.ts'

/** Seconds a client should wait before retrying when a tenant's data source is down. */
export const DATA_SOURCE_RETRY_AFTER_SEC = 5

/** Driver and socket codes meaning "the database cannot be reached", not "the query is wrong". */
const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EPIPE',
  'PROTOCOL_CONNECTION_LOST',
  'ER_CON_COUNT_ERROR',
  'ER_SERVER_SHUTDOWN',
  'SQLITE_CANTOPEN',
  'SQLITE_NOTADB',
  'SQLITE_CORRUPT',
  'SQLITE_PERM',
  'SQLITE_AUTH',
])

/**
 * Is `err` a data source that is down or unreadable (refused connection, unknown host, knex pool
 * acquisition timeout, a missing or unreadable SQLite file)? Also looks through `cause` and
 * AggregateError (Node's happy-eyeballs connect reports one per address).
 */
export function isDataSourceDown(err: unknown, depth = 0): boolean {
  if (!err || typeof err !== 'object' || depth > 4) return false
  const e = err as { code?: unknown; name?: unknown; errors?: unknown; cause?: unknown }
  const code = typeof e.code === 'string' ? e.code : ''
  if (UNREACHABLE.has(code) || code.startsWith('SQLITE_IOERR')) return true
  if (e.name === 'KnexTimeoutError') return true
  if (Array.isArray(e.errors) && e.errors.some((x) => isDataSourceDown(x, depth + 1))) return true
  return isDataSourceDown(e.cause, depth + 1)
}

/** 503 with a retry hint; the driver error (with hosts, paths) stays in `cause`. */
export function dataSourceUnavailable(cause: unknown): HubError {
  return new HubError(
    'DATA_SOURCE_UNAVAILABLE',
    "The tenant's data source is not reachable right now; try again shortly",
    { cause, headers: { 'Retry-After': String(DATA_SOURCE_RETRY_AFTER_SEC) } },
  )
}
