import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type DataSource, introspect, openDataSource } from '../../db/index.ts'
import { executeReadOnly } from '../../engine/execute.ts'
import { inferModel } from '../../engine/model/infer.ts'
import { loadOverrides } from '../../engine/model/overrides.ts'
import type { SemanticModel } from '../../engine/model-types.ts'
import type { Principal } from '../../principal.ts'
import { createTestDatabase, createTestPgDatabase } from '../../testing/test-databases.ts'
import { guardSql } from '../guard.ts'
import { createPharmaSchema } from './pharma-fixture.ts'

/**
 * The real data sources the guard tests run on: a SQLite file and throw-away MariaDB and PostgreSQL
 * databases, both holding the small pharma fixture. `writer` is a read-write handle for setup and
 * for counting rows; `reader` is what the hub would use (SQLite opened read-only).
 */
export interface PharmaSource {
  name: 'sqlite' | 'mariadb' | 'postgresql'
  /** The real inferred model with the bundled pharma overrides, plus column restrictions for tests. */
  model: SemanticModel
  reader: DataSource
  writer: DataSource
  close(): Promise<void>
}

export async function openSqliteSource(): Promise<PharmaSource> {
  const dir = mkdtempSync(join(tmpdir(), 'nl2q-guard-'))
  const url = `sqlite:${join(dir, 'pharma.sqlite')}`
  const writer = openDataSource(url)
  await createPharmaSchema(writer.knex)
  const reader = openDataSource(url, { readOnly: true })
  return {
    name: 'sqlite',
    model: await pharmaTestModel(reader),
    reader,
    writer,
    async close() {
      await reader.knex.destroy()
      await writer.knex.destroy()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

export const openMariaDbSource = (): Promise<PharmaSource> =>
  openServerSource('mariadb', () => createTestDatabase('nl2q_guard'))

export const openPostgresSource = (): Promise<PharmaSource> =>
  openServerSource('postgresql', () => createTestPgDatabase('nl2q_guard'))

/** A throw-away database on a server: the pharma schema through a writer, a read-only reader. */
async function openServerSource(
  name: PharmaSource['name'],
  create: () => Promise<{ url: string; drop(): Promise<void> }>,
): Promise<PharmaSource> {
  const db = await create()
  const writer = openDataSource(db.url, { pool: { max: 2 } })
  try {
    await createPharmaSchema(writer.knex)
  } catch (err) {
    await writer.knex.destroy()
    await db.drop()
    throw err
  }
  const reader = openDataSource(db.url, { readOnly: true, pool: { max: 4 } })
  return {
    name,
    model: await pharmaTestModel(reader),
    reader,
    writer,
    async close() {
      await reader.knex.destroy()
      await writer.knex.destroy()
      await db.drop()
    },
  }
}

/**
 * Inference + the bundled pharma overrides (territory row policy), and two column restrictions the
 * demo does not configure: hcps.crm_account_id hidden from everyone, reps.email for admin/analyst.
 */
export async function pharmaTestModel(ds: DataSource): Promise<SemanticModel> {
  const model = inferModel(await introspect(ds), await loadOverrides('pharma'))
  const field = (dataset: string, column: string) => {
    const f = model.datasets.find((d) => d.table === dataset)?.fields.find((x) => x.column === column)
    if (!f) throw new Error(`fixture: no ${dataset}.${column} in the inferred model`)
    return f
  }
  field('hcps', 'crm_account_id').hidden = true
  field('reps', 'email').roles = ['admin', 'analyst']
  return model
}

/** Guard and run SQL as the hub would for this principal. */
export async function runGuarded(
  source: PharmaSource,
  sql: string,
  principal: Principal,
  maxRows = 1000,
  timeoutMs = 5000,
) {
  const guarded = guardSql(sql, { dialect: source.reader.dialect, model: source.model, principal, maxRows })
  const result = await executeReadOnly(source.reader, guarded, { timeoutMs, maxRows })
  return { ...result, guarded }
}

/** Run trusted SQL directly (the expected answer), rows as arrays. */
export async function runDirect(source: PharmaSource, sql: string): Promise<unknown[][]> {
  const r = await executeReadOnly(source.writer, { sql, bindings: [] }, { timeoutMs: 5000, maxRows: 100_000 })
  return r.rows
}
