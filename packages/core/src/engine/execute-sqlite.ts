import type { DataSource } from '../db/index.ts'
import { runInSqliteWorker } from '../db/sqlite-worker/pool.ts'
import type { SqliteAnswer } from '../db/sqlite-worker/protocol.ts'
import { dataSourceUnavailable, isDataSourceDown } from '../db/unavailable.ts'
import { HubError } from '../errors.ts'
import { cancelled, throwIfAborted, timedOut } from './execute-errors.ts'
import type { ExecuteOptions, ExecuteQuery, ExecuteResult } from './execute-types.ts'

/**
 * SQLite statements run in a worker process (db/sqlite-worker/) on a handle of their own opened
 * `readonly` + `query_only`; the worker refuses anything but a single read-only reader
 * (`sqlite3_stmt_readonly`). The worker checks the deadline per scanned row (where guarded SQL
 * calls the deadline function) and between result rows; if the statement is still running when
 * the deadline passes (a long aggregate, a function over a huge string) or the caller goes away,
 * the process is killed and replaced, so the statement really stops.
 */
export async function runSqlite(
  ds: DataSource,
  query: ExecuteQuery,
  opts: ExecuteOptions,
): Promise<ExecuteResult> {
  if (ds.config.dialect !== 'sqlite') throw new HubError('INTERNAL', 'not a SQLite data source')
  throwIfAborted(opts.signal)
  // The kill comes a little after the worker's own deadline, which ends most statements cleanly.
  const deadline = AbortSignal.timeout(opts.timeoutMs + 250)
  const signal = opts.signal ? AbortSignal.any([opts.signal, deadline]) : deadline
  let answer: SqliteAnswer
  try {
    answer = await runInSqliteWorker(
      {
        file: ds.config.filename,
        sql: query.sql,
        bindings: [...query.bindings],
        maxRows: opts.maxRows,
        timeoutMs: opts.timeoutMs,
      },
      signal,
    )
  } catch (err) {
    if (opts.signal?.aborted) throw cancelled(opts.signal.reason)
    if (deadline.aborted) throw timedOut(opts.timeoutMs, err)
    throw new HubError('INTERNAL', 'The SQLite worker failed', { cause: err })
  }
  if (answer.ok) {
    const rows = 'json' in answer ? (JSON.parse(answer.json) as unknown[][]) : answer.rows.map(withBuffers)
    return { columns: answer.columns, rows, truncated: answer.truncated }
  }
  throw sqliteError(answer, query, opts.timeoutMs)
}

/** The structured clone turns a BLOB's Buffer into a plain Uint8Array; give callers a Buffer again. */
function withBuffers(row: unknown[]): unknown[] {
  return row.map((v) =>
    v instanceof Uint8Array && !Buffer.isBuffer(v) ? Buffer.from(v.buffer, v.byteOffset, v.byteLength) : v,
  )
}

function sqliteError(
  answer: Extract<SqliteAnswer, { ok: false }>,
  query: ExecuteQuery,
  timeoutMs: number,
): HubError {
  const cause = { ...answer, sql: query.sql }
  const { kind, code, message } = answer
  if (kind === 'timeout' || code === 'SQLITE_INTERRUPT') return timedOut(timeoutMs, cause)
  if (kind === 'read-only')
    return new HubError('READ_ONLY', 'Only a single read-only SELECT may run here', { cause })
  if (code.startsWith('SQLITE_READONLY') || /readonly|read-only|query_only/i.test(message))
    return new HubError('READ_ONLY', 'Only reads are allowed here', { cause })
  if (kind === 'unavailable' || isDataSourceDown({ code })) return dataSourceUnavailable(cause)
  if (kind === 'sqlite')
    return new HubError('BAD_REQUEST', `The database rejected the query (${code})`, { cause })
  if (kind === 'argument') return new HubError('BAD_REQUEST', 'The database rejected the query', { cause })
  return new HubError('INTERNAL', 'The query failed', { cause })
}
