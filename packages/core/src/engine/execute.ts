import { createConnection } from 'mysql2/promise'
import type { DataSource } from '../db/index.ts'
import { dataSourceUnavailable, isDataSourceDown } from '../db/unavailable.ts'
import { HubError } from '../errors.ts'
import { acquireWithin } from './acquire.ts'
import { cancelled, throwIfAborted, timedOut } from './execute-errors.ts'
import { runPostgres } from './execute-postgres.ts'
import { runSqlite } from './execute-sqlite.ts'
import type { ExecuteOptions, ExecuteQuery, ExecuteResult } from './execute-types.ts'

/**
 * The read-only executor every path ends in (plan compiler and guarded SQL). It is the second line
 * of defence: even SQL that slipped past the guard cannot write, because
 * - SQLite: the statement runs in a worker process on a handle opened read-only with
 *   `PRAGMA query_only = ON` and must be a single read-only reader (`sqlite3_stmt_readonly`), see
 *   execute-sqlite.ts;
 * - MySQL/MariaDB: it runs inside `START TRANSACTION READ ONLY` with the session access mode set to
 *   READ ONLY (which also refuses DDL, whose implicit commit would otherwise escape the transaction),
 *   and is rolled back; multi-statements are off in the driver. On a pool dedicated to reads (see
 *   dedicateToReads) the session mode is set once per connection and kept; on any other pool it is
 *   set per call and restored afterwards.
 * - PostgreSQL: `BEGIN READ ONLY` with `SET LOCAL statement_timeout`, see execute-postgres.ts.
 * Rows come back as arrays in column order (duplicate column names survive), at most maxRows of them
 * with `truncated` telling whether there were more.
 */

export type { ExecuteOptions, ExecuteQuery, ExecuteResult } from './execute-types.ts'

export async function executeReadOnly(
  ds: DataSource,
  query: ExecuteQuery,
  opts: ExecuteOptions,
): Promise<ExecuteResult> {
  if (!Number.isInteger(opts.maxRows) || opts.maxRows < 0)
    throw new HubError('INTERNAL', 'maxRows must be >= 0')
  throwIfAborted(opts.signal)
  if (ds.dialect === 'sqlite') return runSqlite(ds, query, opts)
  if (ds.dialect === 'postgresql') return runPostgres(ds, query, opts)
  return runMysql(ds, query, opts)
}

/**
 * SQL function that ends a SQLite statement once its deadline has passed, called per scanned row by
 * SQL that may run long (guarded SQL with joins or subqueries, see sql-guard/guard.ts). The SQLite
 * worker (db/sqlite-worker/worker.mjs) defines it; past the deadline the worker is killed anyway.
 */
export const SQLITE_DEADLINE_FUNCTION = 'nl2q_alive'

// ---------------------------------------------------------------- MySQL / MariaDB

interface MysqlField {
  name: string
}
interface MysqlQuery {
  on(event: 'fields', cb: (fields: MysqlField[]) => void): MysqlQuery
  on(event: 'result', cb: (row: unknown[]) => void): MysqlQuery
  on(event: 'error', cb: (err: Error) => void): MysqlQuery
  on(event: 'end', cb: () => void): MysqlQuery
}
export interface MysqlConnection {
  threadId: number | null
  _isMariaDB?: boolean
  pause(): void
  resume(): void
  query(
    options: { sql: string; values?: unknown[]; rowsAsArray?: boolean },
    cb?: (err: Error | null, rows?: unknown) => void,
  ): MysqlQuery
  destroy(): void
}

function plain(conn: MysqlConnection, sql: string): Promise<void> {
  return new Promise((resolve, reject) => {
    conn.query({ sql }, (err) => (err ? reject(err) : resolve()))
  })
}

function scalar(conn: MysqlConnection, sql: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    conn.query({ sql, rowsAsArray: true }, (err, rows) =>
      err ? reject(err) : resolve((rows as unknown[][] | undefined)?.[0]?.[0]),
    )
  })
}

const escapesChecked = new WeakSet<MysqlConnection>()

/**
 * mysql2 inlines bindings with backslash escapes. Under sql_mode NO_BACKSLASH_ESCAPES the server
 * would read `\'` as a backslash and a closing quote, and a bound value could end its string. Make
 * sure the mode is off on every connection this executor uses (checked once per connection).
 */
async function ensureBackslashEscapes(conn: MysqlConnection): Promise<void> {
  if (escapesChecked.has(conn)) return
  const mode = String(await scalar(conn, 'SELECT @@SESSION.sql_mode'))
  if (/NO_BACKSLASH_ESCAPES/i.test(mode)) {
    const next = mode
      .split(',')
      .filter((m) => m.toUpperCase() !== 'NO_BACKSLASH_ESCAPES')
      .join(',')
    await new Promise<void>((resolve, reject) => {
      conn.query({ sql: 'SET SESSION sql_mode = ?', values: [next] }, (err) =>
        err ? reject(err) : resolve(),
      )
    })
  }
  escapesChecked.add(conn)
}

/** Errors of the statement itself (server-side codes) are the query's fault; the rest is ours. */
export function mysqlError(err: unknown): HubError {
  if (err instanceof HubError) return err
  const e = err as { code?: string; errno?: number; sqlState?: string; fatal?: boolean }
  if (e.errno === 1792 || e.code === 'ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION')
    return new HubError('READ_ONLY', 'Only reads are allowed here', { cause: err })
  if (e.sqlState && !e.fatal)
    return new HubError('BAD_REQUEST', `The database rejected the query (${e.code ?? e.errno})`, {
      cause: err,
    })
  return isDataSourceDown(err) || e.fatal
    ? dataSourceUnavailable(err)
    : new HubError('SERVICE_UNAVAILABLE', 'The database failed', { cause: err })
}

/** Pools whose every connection serves reads only (tenant pools): their sessions stay READ ONLY. */
export const readOnlyPools = new WeakSet<object>()
const readOnlySessions = new WeakSet<MysqlConnection>()

/**
 * Declare a data source's pool as serving reads only (the tenant pools, opened with `readOnly`):
 * the executor then puts each connection's session in READ ONLY mode the first time it uses it and
 * leaves it so, instead of two extra round trips per query to set and restore it. Anything else
 * that runs on the pool (introspection, value index, ping) runs read-only too. Every query still runs
 * in its own `START TRANSACTION READ ONLY … ROLLBACK` with the statement time limit. No-op on SQLite,
 * whose tenant pools are opened read-only with `query_only`.
 */
export function dedicateToReads(ds: DataSource): void {
  if (ds.dialect === 'mysql') readOnlyPools.add(ds.knex)
}

export async function killQuery(ds: DataSource, threadId: number): Promise<void> {
  if (ds.config.dialect !== 'mysql') return
  // A separate connection outside the pool: the pool may be exhausted by the very queries to stop.
  const killer = await createConnection({ ...ds.config.connection, connectTimeout: 5000 })
  try {
    await killer.query('KILL QUERY ?', [threadId])
  } finally {
    await killer.end().catch(() => killer.destroy())
  }
}

/**
 * Open the read-only transaction a statement runs in: backslash escapes on, the session READ ONLY
 * (once per connection on a pool dedicated to reads), then `start` (`START TRANSACTION READ ONLY`,
 * or with a consistent snapshot for a streamed read). Each step is raced against the caller's
 * deadline.
 */
export async function beginReadOnly(
  conn: MysqlConnection,
  dedicated: boolean,
  race: <T>(p: Promise<T>) => Promise<T>,
  start: string,
): Promise<void> {
  await race(ensureBackslashEscapes(conn))
  if (!dedicated || !readOnlySessions.has(conn)) {
    await race(plain(conn, 'SET SESSION TRANSACTION READ ONLY'))
    if (dedicated) readOnlySessions.add(conn)
  }
  await race(plain(conn, start))
}

/** Roll the transaction back (and restore the session on a shared pool); false if the connection failed. */
export async function endReadOnly(conn: MysqlConnection, dedicated: boolean): Promise<boolean> {
  try {
    await plain(conn, 'ROLLBACK')
    if (!dedicated) await plain(conn, 'SET SESSION TRANSACTION READ WRITE')
    return true
  } catch {
    return false
  }
}

/** The statement with the server's own time limit: MariaDB's SET STATEMENT, MySQL's optimizer hint. */
export function withTimeLimit(conn: MysqlConnection, sql: string, remainingMs: number): string {
  return conn._isMariaDB
    ? `SET STATEMENT max_statement_time=${Math.max(0.001, remainingMs / 1000).toFixed(3)} FOR ${sql}`
    : sql.replace(/^\s*select\b/i, (s) => `${s} /*+ MAX_EXECUTION_TIME(${Math.ceil(remainingMs)}) */`)
}

/**
 * MySQL statements that a read-only transaction does not stop (SET GLOBAL, GRANT, LOCK, HANDLER,
 * DO, CALL, SELECT … INTO OUTFILE, executable comments) are refused by shape before they reach the
 * server. Callers generate SQL (compiler, guard); this only catches a bug or a bypass.
 */
export function assertMysqlReadShape(sql: string): void {
  if (!/^\s*(\(\s*)*(select|with)\b/i.test(sql) || /\/\*M?!|\binto\s+(outfile|dumpfile)\b/i.test(sql))
    throw new HubError('READ_ONLY', 'Only a single read-only SELECT may run here', { cause: { sql } })
}

/**
 * One deadline for the whole call: waiting for a pooled connection, the session set-up and
 * `START TRANSACTION` count against `timeoutMs` as well as the statement (a frozen server must not
 * hold a request past its limit). Before the statement, an expired deadline or an abort rejects at
 * once and the connection, which may be mid-command, is destroyed; during it, the server's own limit
 * (what is left of the budget) ends it and `KILL QUERY` backs that up.
 */
export function setupDeadline(
  opts: { timeoutMs: number; signal?: AbortSignal | undefined },
  /** Called first when the deadline passes or the caller aborts (a stream stops its server there). */
  onFire?: (why: 'timeout' | 'abort') => void,
) {
  let fail: (err: HubError) => void = () => {}
  const interrupted = new Promise<never>((_, reject) => {
    fail = reject
  })
  interrupted.catch(() => {})
  const fire = (why: 'timeout' | 'abort') => {
    onFire?.(why)
    fail(why === 'timeout' ? timedOut(opts.timeoutMs) : cancelled(opts.signal?.reason))
  }
  const timer = setTimeout(() => fire('timeout'), opts.timeoutMs)
  const onAbort = () => fire('abort')
  opts.signal?.addEventListener('abort', onAbort, { once: true })
  return {
    race: <T>(p: Promise<T>): Promise<T> => Promise.race([p, interrupted]),
    dispose() {
      clearTimeout(timer)
      opts.signal?.removeEventListener('abort', onAbort)
    },
  }
}

async function runMysql(ds: DataSource, query: ExecuteQuery, opts: ExecuteOptions): Promise<ExecuteResult> {
  assertMysqlReadShape(query.sql)
  const started = Date.now()
  const setup = setupDeadline(opts)
  let conn: MysqlConnection
  try {
    conn = await acquireWithin<MysqlConnection>(ds, setup.race)
  } catch (err) {
    setup.dispose()
    throw mysqlError(err)
  }
  let broken = false
  let killed: 'timeout' | 'abort' | 'cap' | null = null
  const threadId = conn.threadId
  const kill = (why: 'timeout' | 'abort' | 'cap') => {
    if (killed || threadId === null) return
    killed = why
    // After a KILL the connection may be mid-statement: never hand it back to the pool.
    broken = true
    killQuery(ds, threadId).catch(() => conn.destroy())
  }
  let timer: NodeJS.Timeout | undefined
  const onAbort = () => kill('abort')
  let inTransaction = false
  let complete = false
  const dedicated = readOnlyPools.has(ds.knex)
  try {
    try {
      await beginReadOnly(conn, dedicated, setup.race, 'START TRANSACTION READ ONLY')
      inTransaction = true
    } catch (err) {
      // Interrupted mid-command (or the command failed): the session state is unknown.
      broken = true
      throw err
    } finally {
      setup.dispose()
    }
    throwIfAborted(opts.signal)
    const remainingMs = opts.timeoutMs - (Date.now() - started)
    if (remainingMs <= 0) throw timedOut(opts.timeoutMs)
    const sql = withTimeLimit(conn, query.sql, remainingMs)
    // The server-side limit is the main bound; the client timer (with a little grace) backs it up.
    timer = setTimeout(() => kill('timeout'), remainingMs + 500)
    opts.signal?.addEventListener('abort', onAbort, { once: true })
    const result = await new Promise<ExecuteResult>((resolve, reject) => {
      let columns: string[] = []
      const rows: unknown[][] = []
      let truncated = false
      let discarded = 0
      conn
        .query({ sql, values: [...query.bindings], rowsAsArray: true })
        .on('fields', (fields) => {
          columns = fields.map((f) => f.name)
        })
        .on('result', (row) => {
          if (rows.length < opts.maxRows) {
            rows.push(row)
            return
          }
          truncated = true
          // Callers cap with LIMIT maxRows + 1; if one did not, stop the server streaming the rest.
          if (++discarded === 1000) kill('cap')
        })
        .on('error', (err) => {
          const e = err as { errno?: number }
          if (killed === 'cap' && e.errno === 1317) resolve({ columns, rows, truncated })
          else if (killed === 'timeout' || e.errno === 1969 || e.errno === 3024)
            reject(timedOut(opts.timeoutMs, err))
          else if (killed === 'abort') reject(cancelled(opts.signal?.reason))
          else reject(mysqlError(err))
        })
        .on('end', () => {
          if (killed === 'timeout') reject(timedOut(opts.timeoutMs))
          else if (killed === 'abort') reject(cancelled(opts.signal?.reason))
          else resolve({ columns, rows, truncated })
        })
    })
    complete = true
    return result
  } catch (err) {
    if ((err as { fatal?: boolean }).fatal) broken = true
    throw mysqlError(err)
  } finally {
    if (timer) clearTimeout(timer)
    opts.signal?.removeEventListener('abort', onAbort)
    const release = async () => {
      if (!broken && inTransaction && !(await endReadOnly(conn, dedicated))) broken = true
      if (broken) conn.destroy()
      await ds.knex.client.releaseConnection(conn)
    }
    // Once every row is in, the caller has its answer: the transaction ends and the connection goes
    // back to the pool behind it (one round trip less per read; a keyset reader's next page waits
    // for it otherwise). The connection is not reused before that; after a failure, it is awaited.
    if (complete) release().catch(() => conn.destroy())
    else await release()
  }
}
