import type Database from 'better-sqlite3'
import type { Knex } from 'knex'

const statements = new WeakMap<Database.Database, Map<string, Database.Statement>>()

/**
 * One row of a fixed metadata query on the request path (API key, tenant liveness). The query
 * builder costs more than the read itself there: knex compiles the SQL and better-sqlite3 prepares
 * it anew on every call. On SQLite the statement is prepared once per connection; on MySQL the
 * SQL goes to the driver as written. `sql` must be a constant with `?` placeholders, valid on both.
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
  const db = (await knex.client.acquireConnection()) as Database.Database
  try {
    let byText = statements.get(db)
    if (!byText) {
      byText = new Map()
      statements.set(db, byText)
    }
    let stmt = byText.get(sql)
    if (!stmt) {
      stmt = db.prepare(sql)
      byText.set(sql, stmt)
    }
    return stmt.get(...params) as T | undefined
  } finally {
    await knex.client.releaseConnection(db)
  }
}
