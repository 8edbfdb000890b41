import type { Readable } from 'node:stream'
import { createGunzip } from 'node:zlib'
import { type DataSource, HUB_TABLE_PREFIX } from '@nl2q/core'
import { parse } from 'csv-parse'
import { meter } from '../../delivery/index.ts'
import type { InboundManifest } from './manifest.ts'
import { type Cell, typedCell } from './typed.ts'

export const MAX_PROBLEMS = 100

/** One thing wrong with an inbound file: data row (1-based, header excluded; 0 = the file), column. */
export interface Problem {
  row: number
  column: string | null
  reason: string
}

export type LoadOutcome =
  | {
      ok: true
      rowCount: number
      bytes: number
      /** The ledger already held these bytes (a run that crashed after its commit): nothing loaded. */
      loadedBefore?: { file: string; table: string; at: string }
    }
  | { ok: false; reason: string; problems: Problem[]; problemCount: number; rowsRead: number }

class Rejected extends Error {
  constructor(readonly outcome: Extract<LoadOutcome, { ok: false }>) {
    super(outcome.reason)
  }
}

class LoadedBefore extends Error {
  constructor(readonly entry: { file: string; table: string; rowCount: number; at: string }) {
    super('loaded before')
  }
}

type Knex = DataSource['knex']

/**
 * The ledger of loaded files in the target itself (`nl2q_` tables are never datasets): a file's
 * entry commits in the same transaction as its rows, so a poller that crashed between that commit
 * and its own receipt finds the entry on the next run and loads nothing twice (an append-mode load
 * would otherwise add its rows again).
 */
export const LOAD_LEDGER = `${HUB_TABLE_PREFIX}boast_loads`

async function ensureLedger(knex: Knex): Promise<void> {
  if (await knex.schema.hasTable(LOAD_LEDGER)) return
  try {
    await knex.schema.createTable(LOAD_LEDGER, (t) => {
      t.string('sha256', 64).primary()
      t.string('file', 255).notNullable()
      t.string('table_name', 128).notNullable()
      t.bigInteger('row_count').notNullable()
      t.string('loaded_at', 32).notNullable()
    })
  } catch (err) {
    // another poller created it first
    if (!(await knex.schema.hasTable(LOAD_LEDGER))) throw err
  }
}

const columnBuilders: Record<InboundManifest['columns'][number]['type'], string> = {
  string: 'text',
  integer: 'bigInteger',
  decimal: 'double',
  boolean: 'boolean',
  date: 'date',
  datetime: 'datetime',
}

/**
 * The table's columns must hold the declared ones; a missing table is created — inside the load's
 * transaction where DDL is transactional (SQLite, PostgreSQL), before it on MySQL/MariaDB (where
 * CREATE TABLE commits implicitly) and dropped again if the load fails.
 */
async function prepareTable(trx: Knex, m: InboundManifest): Promise<string | null> {
  if (!(await trx.schema.hasTable(m.table))) {
    await trx.schema.createTable(m.table, (t) => {
      for (const c of m.columns) {
        const col = (t as unknown as Record<string, (name: string) => { notNullable(): void }>)[
          columnBuilders[c.type]
        ]?.call(t, c.name)
        if (col && !c.nullable) col.notNullable()
      }
    })
    return null
  }
  const info = await trx(m.table).columnInfo()
  const missing = m.columns.filter((c) => !(c.name in info)).map((c) => c.name)
  return missing.length > 0 ? `table ${m.table} has no column(s) ${missing.join(', ')}` : null
}

/**
 * Check the bytes against the manifest and load them in one transaction: the CSV is parsed
 * (csv-parse) and typed cell by cell while it streams in; rows go in batches. Any problem — a bad
 * cell, a wrong header, a row count, a checksum — rolls the whole load back, so the table is either
 * the manifest's file or what it was.
 */
export async function validateAndLoad(
  ds: DataSource,
  manifest: InboundManifest,
  raw: Readable,
  signal?: AbortSignal,
): Promise<LoadOutcome> {
  const m = meter()
  const bytes = raw.pipe(m)
  raw.on('error', (err) => m.destroy(err))
  const text = manifest.gzip ? bytes.pipe(createGunzip()) : bytes
  const parser = parse({
    delimiter: manifest.delimiter,
    bom: true,
    relax_column_count: true,
    skip_empty_lines: false,
  })
  text.on('error', (err) => parser.destroy(err))
  text.pipe(parser)
  const problems: Problem[] = []
  let problemCount = 0
  const problem = (p: Problem) => {
    problemCount++
    if (problems.length < MAX_PROBLEMS) problems.push(p)
  }
  const names = manifest.columns.map((c) => c.name)
  const batchSize = Math.max(1, Math.floor(900 / names.length))
  let rows = 0
  await ensureLedger(ds.knex)
  const createdOutside =
    ds.dialect === 'mysql' &&
    !(await ds.knex.schema.hasTable(manifest.table)) &&
    (await prepareTable(ds.knex, manifest)) === null
  try {
    await ds.knex.transaction(async (trx) => {
      if (ds.dialect === 'sqlite') await trx.raw('PRAGMA busy_timeout = 10000')
      const prior = (await trx(LOAD_LEDGER).where({ sha256: manifest.sha256 }).first()) as
        | { file: string; table_name: string; row_count: number | string; loaded_at: string }
        | undefined
      if (prior)
        throw new LoadedBefore({
          file: prior.file,
          table: prior.table_name,
          rowCount: Number(prior.row_count),
          at: prior.loaded_at,
        })
      const schemaProblem = await prepareTable(trx, manifest)
      if (schemaProblem) problem({ row: 0, column: null, reason: schemaProblem })
      else if (manifest.mode === 'replace') await trx(manifest.table).delete()
      let header = true
      let batch: Record<string, Cell>[] = []
      try {
        for await (const record of parser as AsyncIterable<string[]>) {
          signal?.throwIfAborted()
          if (header) {
            header = false
            if (record.length !== names.length || record.some((h, i) => h !== names[i]))
              problem({
                row: 0,
                column: null,
                reason: `header is ${record.join(',')}, the manifest declares ${names.join(',')}`,
              })
            continue
          }
          rows++
          if (record.length !== names.length) {
            problem({
              row: rows,
              column: null,
              reason: `${record.length} cells, ${names.length} columns declared`,
            })
            continue
          }
          const out: Record<string, Cell> = {}
          manifest.columns.forEach((c, i) => {
            const typed = typedCell(record[i] as string, c)
            if ('problem' in typed) problem({ row: rows, column: c.name, reason: typed.problem })
            else out[c.name] = typed.value
          })
          if (problemCount > 0) continue // keep reading: the report and the checksum need the whole file
          batch.push(out)
          if (batch.length >= batchSize) {
            await trx(manifest.table).insert(batch)
            batch = []
          }
        }
      } catch (cause) {
        if (cause instanceof Rejected || signal?.aborted) throw cause
        const reason =
          manifest.gzip && /gzip|header|zlib|unexpected end/i.test(String(cause))
            ? 'not a gzip file'
            : 'not a readable CSV file'
        problem({
          row: rows + 1,
          column: null,
          reason: `${reason}: ${(cause as Error).message ?? cause}`.slice(0, 300),
        })
        throw new Rejected({ ok: false, reason: 'unreadable', problems, problemCount, rowsRead: rows })
      }
      if (problemCount === 0 && batch.length > 0) await trx(manifest.table).insert(batch)
      const digest = m.digest()
      if (digest !== manifest.sha256)
        throw new Rejected({
          ok: false,
          reason: 'checksum',
          problems: [
            {
              row: 0,
              column: null,
              reason: `SHA-256 of the file is ${digest}, the manifest says ${manifest.sha256}`,
            },
          ],
          problemCount: 1,
          rowsRead: rows,
        })
      if (manifest.bytes !== undefined && manifest.bytes !== m.bytes)
        problem({
          row: 0,
          column: null,
          reason: `the file has ${m.bytes} bytes, the manifest says ${manifest.bytes}`,
        })
      if (rows !== manifest.rowCount)
        problem({
          row: 0,
          column: null,
          reason: `the file has ${rows} rows, the manifest says ${manifest.rowCount}`,
        })
      if (problemCount > 0)
        throw new Rejected({ ok: false, reason: 'invalid', problems, problemCount, rowsRead: rows })
      await trx(LOAD_LEDGER).insert({
        sha256: manifest.sha256,
        file: manifest.file,
        table_name: manifest.table,
        row_count: rows,
        loaded_at: new Date().toISOString(),
      })
    })
  } catch (err) {
    if (createdOutside) await ds.knex.schema.dropTableIfExists(manifest.table)
    if (err instanceof Rejected) return err.outcome
    if (err instanceof LoadedBefore) {
      const { rowCount, ...before } = err.entry
      return { ok: true, rowCount, bytes: 0, loadedBefore: before }
    }
    throw err
  } finally {
    raw.destroy()
  }
  return { ok: true, rowCount: rows, bytes: m.bytes }
}
