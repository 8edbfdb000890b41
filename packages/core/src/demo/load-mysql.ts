/**
 * MySQL/MariaDB bulk path: one pooled mysql2 connection, session-only `foreign_key_checks=0,
 * unique_checks=0, autocommit=0` during the load, multi-row INSERTs of a few thousand rows with the
 * next batch generated while the server executes the previous one, a COMMIT every few statements,
 * and secondary indexes + foreign keys added after the load (an in-place sorted build). DDL commits
 * implicitly on MySQL, so a failed seed drops the tables it created.
 */

import type { Connection } from 'mysql2'
import type { DataSource } from '../db/knex.ts'
import type { Row } from './dimensions.ts'
import type { BulkLoader, LoadProgress } from './loader.ts'
import { dropStatements, existingTablesSql, PHARMA_TABLE_NAMES, pharmaDdl, type TableDef } from './schema.ts'

const ROWS_PER_STATEMENT = 4_000
const MAX_STATEMENT_BYTES = 4_000_000
const STATEMENTS_PER_COMMIT = 25

export async function openMysqlLoader(ds: DataSource): Promise<BulkLoader> {
  const conn = (await ds.knex.client.acquireConnection()) as Connection
  const run = (sql: string): Promise<unknown> =>
    new Promise((resolve, reject) => conn.query(sql, (err, result) => (err ? reject(err) : resolve(result))))
  const ddl = pharmaDdl('mysql')
  let sessionChanged = false
  let created = false

  const literal = (v: string | number | null): string =>
    v === null ? 'NULL' : typeof v === 'number' ? String(v) : conn.escape(v)

  async function restoreSession(): Promise<void> {
    if (!sessionChanged) return
    await run('SET SESSION foreign_key_checks = 1, unique_checks = 1, autocommit = 1')
    sessionChanged = false
  }

  return {
    async existing() {
      return ((await run(existingTablesSql('mysql'))) as { name: string }[]).map((r) => r.name)
    },

    async begin(replace) {
      sessionChanged = true
      await run('SET SESSION foreign_key_checks = 0, unique_checks = 0, autocommit = 0')
      if (replace) for (const sql of dropStatements('mysql')) await run(sql)
      created = true
      for (const sql of ddl.create) await run(sql)
    },

    async load(table: TableDef, chunks: Iterable<Row[]>, progress: LoadProgress, signal?: AbortSignal) {
      const insert = `INSERT INTO \`${table.name}\` (${table.columns.map((c) => `\`${c.name}\``).join(', ')}) VALUES `
      let tuples: string[] = []
      let bytes = 0
      let inflight: Promise<unknown> | undefined
      let statements = 0
      let rows = 0
      let sent = 0
      let chunkCount = 0

      const flush = async (): Promise<void> => {
        if (tuples.length === 0) return
        // Generation of the next batch overlaps the server's work on this one.
        if (inflight) await inflight
        signal?.throwIfAborted()
        progress(sent, chunkCount)
        const sql = insert + tuples.join(',')
        sent += tuples.length
        tuples = []
        bytes = 0
        inflight = run(sql)
        inflight.catch(() => {}) // observed when awaited; avoid an unhandled rejection meanwhile
        if (++statements % STATEMENTS_PER_COMMIT === 0) {
          await inflight
          await run('COMMIT')
        }
      }

      for (const chunk of chunks) {
        for (const row of chunk) {
          const tuple = `(${row.map(literal).join(',')})`
          tuples.push(tuple)
          bytes += tuple.length
          if (tuples.length >= ROWS_PER_STATEMENT || bytes >= MAX_STATEMENT_BYTES) await flush()
        }
        rows += chunk.length
        chunkCount++
      }
      await flush()
      if (inflight) await inflight
      await run('COMMIT')
      progress(rows, chunkCount)
      return rows
    },

    async finish() {
      for (const sql of ddl.finish) await run(sql)
      await restoreSession()
      await run(`ANALYZE TABLE ${PHARMA_TABLE_NAMES.map((n) => `\`${n}\``).join(', ')}`)
    },

    async abort() {
      try {
        await run('ROLLBACK')
        if (created) for (const sql of dropStatements('mysql')) await run(sql)
      } finally {
        await restoreSession()
      }
    },

    async release() {
      try {
        await restoreSession()
      } catch {
        // A connection whose session we could not restore must not go back into the pool.
        conn.destroy()
      }
      await ds.knex.client.releaseConnection(conn)
    },
  }
}
