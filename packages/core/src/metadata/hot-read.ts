import Database from 'better-sqlite3'
import type { Knex } from 'knex'

interface Reader {
  db: Database.Database
  statements: Map<string, Database.Statement>
}

const readers = new WeakMap<Knex, Reader>()

/**
 * The request path's own read connection to a SQLite metadata file. Its reads skip the pool of one
 * connection the hub's writes share (tarn: a pending operation, a timer and promises per acquire,
 * and a wait behind the audit writer), and see only committed rows: WAL gives every statement the
 * last committed snapshot, so a revocation committed by any connection or process is seen by the
 * next read. `query_only`: nothing is ever written through it.
 */
function readerFor(knex: Knex): Reader {
  let reader = readers.get(knex)
  if (!reader) {
    const { filename } = knex.client.config.connection as { filename: string }
    const db = new Database(filename, { fileMustExist: true })
    db.pragma('busy_timeout = 5000')
    db.pragma('query_only = ON')
    reader = { db, statements: new Map() }
    readers.set(knex, reader)
  }
  return reader
}

/** Close the read connection of a SQLite metadata store (MetadataStore.close). */
export function closeHotReads(knex: Knex): void {
  const reader = readers.get(knex)
  readers.delete(knex)
  reader?.db.close()
}

/**
 * One row of a fixed metadata query on the request path (API key, tenant liveness). The query
 * builder costs more than the read itself there: knex compiles the SQL and better-sqlite3 prepares
 * it anew on every call. On SQLite the statement is prepared once on the read connection above; on
 * MySQL the SQL goes to the driver as written. `sql` must be a constant with `?` placeholders,
 * valid on both.
 */
export async function hotRow<T>(
  knex: Knex,
  sql: string,
  params: readonly (string | number | null)[],
): Promise<T | undefined> {
  if (knex.client.config.client !== 'better-sqlite3') {
    const [rows] = (await knex.raw(sql, params)) as [T[]]
    return rows[0]
  }
  const reader = readerFor(knex)
  let stmt = reader.statements.get(sql)
  if (!stmt) {
    stmt = reader.db.prepare(sql)
    reader.statements.set(sql, stmt)
  }
  return stmt.get(...params) as T | undefined
}
