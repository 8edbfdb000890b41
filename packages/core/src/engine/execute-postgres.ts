import pg from 'pg'
import type { DataSource } from '../db/index.ts'
import { dataSourceUnavailable, isDataSourceDown } from '../db/unavailable.ts'
import { HubError } from '../errors.ts'
import { acquireWithin } from './acquire.ts'
import { cancelled, throwIfAborted, timedOut } from './execute-errors.ts'
import type { ExecuteOptions, ExecuteQuery, ExecuteResult } from './execute-types.ts'

/**
 * PostgreSQL leg of executeReadOnly: the statement runs inside `BEGIN READ ONLY … ROLLBACK` with
 * `SET LOCAL statement_timeout` set to what is left of the deadline, on a session whose default
 * transaction mode is READ ONLY on tenant pools (db/knex.ts). The pg driver sends one statement per
 * extended-protocol query (bound values never allow a second statement). One deadline covers
 * acquisition, BEGIN and the statement; on timeout or abort `pg_cancel_backend` stops the backend
 * from a separate connection and the pooled connection is discarded.
 */

export interface PgConnection {
  processID: number | null
  __knex__disposed?: unknown
  query(config: { text: string; values?: unknown[]; rowMode?: 'array' }): Promise<{
    fields: { name: string }[]
    rows: unknown[][]
  }>
  end(): Promise<void>
}

/** SQLSTATE classes: 08 connection exception, 57P0x server shutting down, 53 out of resources. */
export function pgError(err: unknown): HubError {
  if (err instanceof HubError) return err
  const e = err as { code?: string }
  const code = typeof e.code === 'string' ? e.code : ''
  if (code === '25006') return new HubError('READ_ONLY', 'Only reads are allowed here', { cause: err })
  if (/^(08|57P0|53)/.test(code) || isDataSourceDown(err)) return dataSourceUnavailable(err)
  if (/^[0-9A-Z]{5}$/.test(code))
    return new HubError('BAD_REQUEST', `The database rejected the query (${code})`, { cause: err })
  // The socket ended under the query (server killed, network gone).
  if (/Connection terminated|connection is closed/i.test(String((err as Error)?.message)))
    return dataSourceUnavailable(err)
  return new HubError('SERVICE_UNAVAILABLE', 'The database failed', { cause: err })
}

export async function cancelBackend(ds: DataSource, pid: number): Promise<void> {
  if (ds.config.dialect !== 'postgresql') return
  // Outside the pool: the pool may be exhausted by the very queries to stop.
  const killer = new pg.Client({ ...ds.config.connection, connectionTimeoutMillis: 5000 })
  await killer.connect()
  try {
    await killer.query('SELECT pg_cancel_backend($1)', [pid])
  } finally {
    await killer.end().catch(() => {})
  }
}

/** PostgreSQL has no executable comments or INTO OUTFILE; `SELECT … INTO t` writes and is refused. */
export function assertPgReadShape(sql: string): void {
  if (!/^\s*(\(\s*)*(select|with)\b/i.test(sql))
    throw new HubError('READ_ONLY', 'Only a single read-only SELECT may run here', { cause: { sql } })
}

export async function runPostgres(
  ds: DataSource,
  query: ExecuteQuery,
  opts: ExecuteOptions,
): Promise<ExecuteResult> {
  assertPgReadShape(query.sql)
  const started = Date.now()
  let fail: (err: HubError) => void = () => {}
  const interrupted = new Promise<never>((_, reject) => {
    fail = reject
  })
  interrupted.catch(() => {})
  const race = <T>(p: Promise<T>): Promise<T> => Promise.race([p, interrupted])
  let conn: PgConnection | undefined
  let inStatement = false
  let cancelledWhy: 'timeout' | 'abort' | null = null
  let broken = false
  const stop = (why: 'timeout' | 'abort') => {
    if (cancelledWhy) return
    cancelledWhy = why
    broken = true
    const pid = conn?.processID
    if (inStatement && pid) cancelBackend(ds, pid).catch(() => {})
    fail(why === 'timeout' ? timedOut(opts.timeoutMs) : cancelled(opts.signal?.reason))
  }
  // The server's statement_timeout is the main bound during the statement; this timer (with a
  // little grace there) is the bound before it and the backup after.
  const timer = setTimeout(() => stop('timeout'), opts.timeoutMs + 250)
  const onAbort = () => stop('abort')
  opts.signal?.addEventListener('abort', onAbort, { once: true })
  let inTransaction = false
  try {
    conn = await acquireWithin<PgConnection>(ds, race)
    const c = conn
    try {
      await race(c.query({ text: 'BEGIN READ ONLY' }))
      inTransaction = true
      const remainingMs = opts.timeoutMs - (Date.now() - started)
      if (remainingMs <= 0) throw timedOut(opts.timeoutMs)
      await race(c.query({ text: `SET LOCAL statement_timeout = ${Math.max(1, Math.ceil(remainingMs))}` }))
    } catch (err) {
      broken = true
      throw err
    }
    throwIfAborted(opts.signal)
    inStatement = true
    // knex's `?` placeholders become $1, $2 …; SQL without bindings is sent as it is (a literal '?' stays)
    const text =
      query.bindings.length > 0 ? (ds.knex.client.positionBindings(query.sql) as string) : query.sql
    const result = await race(c.query({ text, values: [...query.bindings], rowMode: 'array' }))
    inStatement = false
    const truncated = result.rows.length > opts.maxRows
    return {
      columns: result.fields.map((f) => f.name),
      rows: truncated ? result.rows.slice(0, opts.maxRows) : result.rows,
      truncated,
    }
  } catch (err) {
    if (err instanceof HubError) throw err
    if ((err as { code?: string }).code === '57014')
      throw cancelledWhy === 'abort' ? cancelled(opts.signal?.reason) : timedOut(opts.timeoutMs, err)
    throw pgError(err)
  } finally {
    clearTimeout(timer)
    opts.signal?.removeEventListener('abort', onAbort)
    if (conn) await endPgRead(ds, conn, { broken, inTransaction })
  }
}

/**
 * Hand a read's connection back: its transaction rolled back, or — when it broke (cancelled,
 * interrupted, or the rollback failed) — discarded, never reused.
 */
export async function endPgRead(
  ds: DataSource,
  conn: PgConnection,
  state: { broken: boolean; inTransaction: boolean },
): Promise<void> {
  let broken = state.broken
  if (!broken && state.inTransaction) {
    try {
      await conn.query({ text: 'ROLLBACK' })
    } catch {
      broken = true
    }
  }
  if (broken) {
    conn.__knex__disposed = conn.__knex__disposed ?? 'discarded by the executor'
    conn.end().catch(() => {})
  }
  await ds.knex.client.releaseConnection(conn)
}
