/**
 * PostgreSQL bulk path: one pooled pg connection and ONE transaction for the whole seed — DDL is
 * transactional here, so a failed or cancelled seed rolls back to the database as it was (with
 * `replace`, the old tables come back too). Rows go in through parameterised multi-row INSERTs
 * (under the protocol's 65,535 parameters each), the next batch generated while the server
 * executes the previous one; secondary indexes and foreign keys are added after the load.
 */

import type { DataSource } from '../db/knex.ts'
import type { Row } from './dimensions.ts'
import type { BulkLoader, LoadProgress } from './loader.ts'
import { dropStatements, existingTablesSql, PHARMA_TABLE_NAMES, pharmaDdl, type TableDef } from './schema.ts'

const MAX_PARAMETERS = 60_000

interface PgConnection {
  query(text: string, values?: unknown[]): Promise<{ rows: { name: string }[] }>
  __knex__disposed?: unknown
}

export async function openPostgresLoader(ds: DataSource): Promise<BulkLoader> {
  const conn = (await ds.knex.client.acquireConnection()) as PgConnection
  const run = (sql: string, values?: unknown[]) => conn.query(sql, values)
  const ddl = pharmaDdl('postgresql')
  let inTransaction = false

  return {
    async existing() {
      return (await run(existingTablesSql('postgresql'))).rows.map((r) => r.name)
    },

    async begin(replace) {
      await run('BEGIN')
      inTransaction = true
      if (replace) for (const sql of dropStatements('postgresql')) await run(sql)
      for (const sql of ddl.create) await run(sql)
    },

    async load(table: TableDef, chunks: Iterable<Row[]>, progress: LoadProgress, signal?: AbortSignal) {
      const width = table.columns.length
      const perStatement = Math.floor(MAX_PARAMETERS / width)
      const insert = `INSERT INTO "${table.name}" (${table.columns.map((c) => `"${c.name}"`).join(', ')}) VALUES `
      let batch: Row[] = []
      let inflight: Promise<unknown> | undefined
      let rows = 0
      let sent = 0
      let chunkCount = 0

      const flush = async (): Promise<void> => {
        if (batch.length === 0) return
        if (inflight) await inflight
        signal?.throwIfAborted()
        progress(sent, chunkCount)
        const tuples = batch.map(
          (_, r) => `(${Array.from({ length: width }, (_, c) => `$${r * width + c + 1}`).join(',')})`,
        )
        const values = batch.flat()
        sent += batch.length
        batch = []
        inflight = run(insert + tuples.join(','), values)
        inflight.catch(() => {}) // observed when awaited; avoid an unhandled rejection meanwhile
      }

      for (const chunk of chunks) {
        for (const row of chunk) {
          batch.push(row)
          if (batch.length >= perStatement) await flush()
        }
        rows += chunk.length
        chunkCount++
      }
      await flush()
      if (inflight) await inflight
      progress(rows, chunkCount)
      return rows
    },

    async finish() {
      for (const sql of ddl.finish) await run(sql)
      await run('COMMIT')
      inTransaction = false
      await run(`ANALYZE ${PHARMA_TABLE_NAMES.map((n) => `"${n}"`).join(', ')}`)
    },

    async abort() {
      if (inTransaction) await run('ROLLBACK')
      inTransaction = false
    },

    async release() {
      if (inTransaction) {
        // Still inside the seed's transaction: this connection must not go back into the pool.
        await run('ROLLBACK').catch(() => {
          conn.__knex__disposed = 'seed transaction left open'
        })
      }
      await ds.knex.client.releaseConnection(conn)
    },
  }
}
