import type Cursor from 'pg-cursor'
import type { DataSource } from '../db/index.ts'
import { HubError } from '../errors.ts'
import { acquireWithin } from './acquire.ts'
import {
  assertMysqlReadShape,
  beginReadOnly,
  endReadOnly,
  killQuery,
  type MysqlConnection,
  mysqlError,
  readOnlyPools,
  setupDeadline,
  withTimeLimit,
} from './execute.ts'
import { cancelled, throwIfAborted, timedOut } from './execute-errors.ts'
import {
  assertPgReadShape,
  cancelBackend,
  endPgRead,
  type PgConnection,
  pgError,
} from './execute-postgres.ts'
import type { ExecuteQuery } from './execute-types.ts'

/**
 * A read-only statement's rows as they arrive, in batches: one statement, one consistent snapshot,
 * memory for a couple of batches whatever the row count (the export door — BOAST files, bulk
 * pushes). The same defences as executeReadOnly: a READ ONLY transaction that is rolled back, the
 * read shape checked, one deadline for the whole stream (the statement limit on the server, a
 * client timer behind it), `KILL QUERY` / `pg_cancel_backend` on timeout or abort.
 *
 * Back-pressure: MariaDB/MySQL rows are pushed by the server; the socket is paused while READ_AHEAD
 * batches wait for the consumer, and resumed when half of them are taken. PostgreSQL rows are pulled from a portal
 * (`pg-cursor`) one batch at a time. Stopping early (the consumer's `return()`, an error downstream)
 * ends the statement and discards the connection.
 *
 * SQLite has no network to stream over: the engine pages it instead (engine.ts, `cursor`).
 */
/**
 * Batches a MariaDB/MySQL stream holds before it pauses the socket (and resumes at half): enough
 * that the server keeps sending while the reader works, few enough to stay young in the heap.
 */
const READ_AHEAD = 4

export interface StreamOptions {
  /** The whole stream's deadline, acquisition included. */
  timeoutMs: number
  batchRows: number
  signal?: AbortSignal
}

export function streamReadOnly(
  ds: DataSource,
  query: ExecuteQuery,
  opts: StreamOptions,
): AsyncGenerator<unknown[][]> {
  if (!Number.isInteger(opts.batchRows) || opts.batchRows < 1)
    throw new HubError('INTERNAL', 'batchRows must be >= 1')
  if (ds.dialect === 'mysql') return streamMysql(ds, query, opts)
  if (ds.dialect === 'postgresql') return streamPostgres(ds, query, opts)
  throw new HubError('INTERNAL', `no row stream on ${ds.dialect}`)
}

async function* streamMysql(
  ds: DataSource,
  query: ExecuteQuery,
  opts: StreamOptions,
): AsyncGenerator<unknown[][]> {
  assertMysqlReadShape(query.sql)
  throwIfAborted(opts.signal)
  const started = Date.now()
  let conn: MysqlConnection | undefined
  let killed: 'timeout' | 'abort' | null = null
  let broken = false
  let wake = () => {}
  const stopServer = () => {
    const threadId = conn?.threadId
    broken = true
    if (threadId !== null && threadId !== undefined) killQuery(ds, threadId).catch(() => {})
    conn?.destroy()
  }
  const limit = setupDeadline(opts, (why) => {
    if (killed) return
    killed = why
    stopServer()
    wake()
  })
  try {
    conn = await acquireWithin<MysqlConnection>(ds, limit.race)
  } catch (err) {
    limit.dispose()
    throw mysqlError(err)
  }
  const c = conn
  const dedicated = readOnlyPools.has(ds.knex)
  let inTransaction = false
  let ended = false
  let failure: unknown = null
  let paused = false
  try {
    try {
      // One snapshot for the whole read, however long it streams.
      await beginReadOnly(c, dedicated, limit.race, 'START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY')
      inTransaction = true
    } catch (err) {
      broken = true
      throw err
    }
    const remainingMs = opts.timeoutMs - (Date.now() - started)
    if (remainingMs <= 0) throw timedOut(opts.timeoutMs)
    const sql = withTimeLimit(c, query.sql, remainingMs)
    let batch: unknown[][] = []
    const ready: unknown[][][] = []
    c.query({ sql, values: [...query.bindings], rowsAsArray: true })
      .on('result', (row) => {
        batch.push(row)
        if (batch.length < opts.batchRows) return
        ready.push(batch)
        batch = []
        if (!paused && ready.length >= READ_AHEAD) {
          paused = true
          c.pause()
        }
        wake()
      })
      .on('error', (err) => {
        failure = err
        wake()
      })
      .on('end', () => {
        if (batch.length > 0) ready.push(batch)
        batch = []
        ended = true
        wake()
      })
    for (;;) {
      if (killed) throw killed === 'timeout' ? timedOut(opts.timeoutMs) : cancelled(opts.signal?.reason)
      const rows = ready.shift()
      if (rows) {
        if (paused && ready.length <= READ_AHEAD / 2) {
          paused = false
          c.resume()
        }
        yield rows
        continue
      }
      if (failure) {
        const e = failure as { errno?: number; fatal?: boolean }
        if (e.fatal) broken = true
        if (e.errno === 1969 || e.errno === 3024) throw timedOut(opts.timeoutMs, failure)
        throw mysqlError(failure)
      }
      if (ended) return
      await new Promise<void>((resolve) => {
        wake = resolve
      })
    }
  } finally {
    limit.dispose()
    // Stopped before the server finished (the consumer left, or an error downstream): end the
    // statement. (A statement the server failed has ended already; its connection is reusable.)
    if (!ended && !failure && !broken) stopServer()
    if (!broken && inTransaction && !(await endReadOnly(c, dedicated))) broken = true
    if (broken) c.destroy()
    await ds.knex.client.releaseConnection(c)
  }
}

async function* streamPostgres(
  ds: DataSource,
  query: ExecuteQuery,
  opts: StreamOptions,
): AsyncGenerator<unknown[][]> {
  assertPgReadShape(query.sql)
  throwIfAborted(opts.signal)
  const { default: Cursor } = await import('pg-cursor')
  const started = Date.now()
  let conn: PgConnection | undefined
  let inStatement = false
  let broken = false
  let killed: 'timeout' | 'abort' | null = null
  const limit = setupDeadline(opts, (why) => {
    if (killed) return
    killed = why
    broken = true
    const pid = conn?.processID
    if (inStatement && pid) cancelBackend(ds, pid).catch(() => {})
  })
  try {
    conn = await acquireWithin<PgConnection>(ds, limit.race)
  } catch (err) {
    limit.dispose()
    throw err instanceof HubError ? err : pgError(err)
  }
  const c = conn
  let inTransaction = false
  let cursor: Cursor<unknown[]> | undefined
  let done = false
  try {
    try {
      await limit.race(c.query({ text: 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY' }))
      inTransaction = true
      const remainingMs = opts.timeoutMs - (Date.now() - started)
      if (remainingMs <= 0) throw timedOut(opts.timeoutMs)
      await limit.race(
        c.query({ text: `SET LOCAL statement_timeout = ${Math.max(1, Math.ceil(remainingMs))}` }),
      )
    } catch (err) {
      broken = true
      throw err
    }
    const text =
      query.bindings.length > 0 ? (ds.knex.client.positionBindings(query.sql) as string) : query.sql
    inStatement = true
    cursor = (c as unknown as { query<T>(submittable: T): T }).query(
      new Cursor<unknown[]>(text, [...query.bindings], { rowMode: 'array' }),
    )
    for (;;) {
      const rows = await limit.race(cursor.read(opts.batchRows))
      if (rows.length === 0) {
        done = true
        return
      }
      yield rows
      if (rows.length < opts.batchRows) {
        done = true
        return
      }
    }
  } catch (err) {
    // The portal failed or was interrupted: the rollback below (or the discarded connection) ends it.
    done = true
    if (err instanceof HubError) throw err
    if ((err as { code?: string }).code === '57014')
      throw killed === 'abort' ? cancelled(opts.signal?.reason) : timedOut(opts.timeoutMs, err)
    throw pgError(err)
  } finally {
    limit.dispose()
    inStatement = false
    if (cursor && !done && !broken) await cursor.close().catch(() => (broken = true))
    await endPgRead(ds, c, { broken, inTransaction })
  }
}
