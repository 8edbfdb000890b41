import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type DataSource, introspect, openDataSource } from '../packages/core/src/db/index.ts'
import {
  buildValueIndex,
  createEngine,
  type Engine,
  inferModel,
  loadOverrides,
} from '../packages/core/src/engine/index.ts'
import { localPrincipal } from '../packages/core/src/principal.ts'
import { norm } from './engine-compare.ts'
import { createTestDatabase } from './helpers/mysql.ts'
import { PHARMA_DDL as MYSQL_DDL } from './helpers/pharma-ddl.ts'
import { createTestPgDatabase } from './helpers/postgres.ts'
import { REFERENCE_DB } from './helpers/reference.ts'

/**
 * The same questions give the same answers on MariaDB and PostgreSQL as on SQLite (the DDL below is
 * portable to both): a sample of the reference
 * pharma data is loaded into both, and every answer (time buckets, joins, HAVING, counts, typed
 * numbers) is compared.
 */

/** Tables in FK order, with the sample of rows to copy. */
const COPY: [string, string][] = [
  ['territories', '1 = 1'],
  ['reps', '1 = 1'],
  ['hcps', '1 = 1'],
  ['products', '1 = 1'],
  ['prescriptions', 'rx_id % 10 = 0'],
  ['calls', 'rowid % 5 = 0'],
]

const QUESTIONS = [
  'What were total TRx for Tirosint in Q4 2024?',
  'NRx by region in 2024',
  'How many HCPs are in the Northeast region?',
  'How many prescribers are there by specialty?',
  'Monthly TRx trend for Levoxyl in 2024',
  'Which specialty wrote the most NRx in 2024?',
  'Average call duration by channel',
  'Number of completed calls by rep in 2024',
  'How many calls were there last quarter?',
  'List the products',
  'Weekly NRx for Tirosint-SOL in December 2024',
  'Endocrinologists in Texas',
  'TRx for company products by quarter in 2024',
  'Which reps had more than 110 calls?',
  'How many HCPs wrote Tirosint in 2024?',
  'Top 3 reps by number of completed calls in 2024',
  'Which cardiologists in California wrote more than 10 TRx in 2024?',
  'Total TRx for Tirosint in the last 6 months',
  'Which products have a list price above 100?',
  'TRx for Tirosint vs Synthroid by month in 2024',
  'Average call duration for in-person calls in 2024',
  'Yearly TRx by payer type',
  'Weekly calls in November 2024',
  'Reps hired after 2020',
  'TRx and NRx by segment for non-company products in H2 2024',
  'NRx share of TRx by product in 2024',
  // analyst shapes (issue 10): outer queries over the grouped one, window functions
  'Average Tirosint TRx per HCP in 2024',
  'Average weekly Synthroid NRx in Q4 2024',
  'Average TRx per prescriber by region in 2024',
  'Top 3 prescribers per territory',
  'Top 3 products in each region',
  'Bottom 2 products by NRx per quarter in 2024',
  'Which specialty writes the most Tirosint?',
  'Which HCP wrote the most Synthroid in each territory in 2024?',
  'NRx in 2024 for our products vs competitors',
  'Levoxyl TRx growth Q4 2024 vs Q3 2024',
  // series over a dense calendar: the 10 % sample leaves many HCP × month holes
  'Quarter over quarter change in TRx',
  'monthly change in Tirosint TRx by territory in 2024',
  'TRx YoY by quarter',
  'week over week NRx for Cytomel in Q4 2024',
  '5 fastest-growing territories Q4 2024 vs Q3 2024',
  'territories with the highest percent growth in TRx Q4 2024 vs Q3 2024',
  'Tirosint TRx change by HCP December 2024 vs November 2024',
  'What percentage of TRx in the Northeast came from Medicare in 2024?',
  'Synthroid market share of hypothyroidism NRx in Q4 2024',
  'market share of Tirosint in 2024',
  'market share by product in 2024',
  'TRx by rep for Tirosint in Q4 2024',
  'how many HCPs had fewer than 2 calls in Q4 2024',
  'number of HCPs with no calls in Q4 2024',
  'share of TRx by product in 2024',
  'percent of TRx from Medicare',
  'percent of TRx in the Northeast in 2024',
  'Number of HCPs who wrote Synthroid in Q4 2024 but had no completed calls that quarter',
  'Endocrinologists who wrote Tirosint in Q4 2024 but had no in-person calls that quarter',
]

async function copyData(src: DataSource, to: DataSource): Promise<void> {
  for (const [table, where] of COPY) {
    const rows = (await src.knex.raw(`SELECT * FROM ${table} WHERE ${where}`)) as Record<string, unknown>[]
    await to.knex.batchInsert(table, rows, to.dialect === 'sqlite' ? 400 : 1000)
  }
}

async function engineFor(ds: DataSource): Promise<Engine> {
  const model = inferModel(await introspect(ds), await loadOverrides('pharma'))
  return createEngine({ ds, model, valueIndex: await buildValueIndex(ds, model) })
}

/** Rows as sorted normalized strings; a ranked answer (order by measure + limit) compares its ranking values. */
function comparable(r: {
  rows: unknown[][]
  plan: { limit: number | null; order: { by: string }[] }
  columns: { name: string }[]
}): string[] {
  const ranked = r.plan.limit !== null && r.plan.order.length > 0
  if (ranked) {
    const j = r.columns.findIndex((c) => c.name === r.plan.order[0]?.by)
    return r.rows.map((row) => JSON.stringify(norm(row[j])))
  }
  return r.rows.map((row) => JSON.stringify(row.map(norm))).sort()
}

const TARGETS = [
  { name: 'MariaDB', create: () => createTestDatabase('nl2q_engine') },
  { name: 'PostgreSQL', create: () => createTestPgDatabase('nl2q_engine') },
]

for (const target of TARGETS)
  describe(`engine answers alike on SQLite and ${target.name}`, () => {
    let dir: string
    let sqlite: DataSource
    let mysql: DataSource
    let testDb: Awaited<ReturnType<typeof createTestDatabase>>
    let onSqlite: Engine
    let onMysql: Engine
    const admin = localPrincipal('acme')

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'nl2q-parity-'))
      const full = openDataSource(`sqlite:${REFERENCE_DB}`, { readOnly: true })
      sqlite = openDataSource(`sqlite:${join(dir, 'sample.sqlite')}`)
      testDb = await target.create()
      mysql = openDataSource(testDb.url)
      try {
        const ddl = (await full.knex.raw(
          "SELECT sql FROM sqlite_master WHERE type = 'table' ORDER BY rowid",
        )) as { sql: string }[]
        for (const { sql } of ddl) await sqlite.knex.raw(sql)
        for (const stmt of MYSQL_DDL) await mysql.knex.raw(stmt)
        await copyData(full, sqlite)
        await copyData(full, mysql)
      } finally {
        await full.knex.destroy()
      }
      onSqlite = await engineFor(sqlite)
      onMysql = await engineFor(mysql)
    }, 240_000)

    afterAll(async () => {
      await sqlite?.knex.destroy()
      await mysql?.knex.destroy()
      await testDb?.drop()
      if (dir) rmSync(dir, { recursive: true, force: true })
    })

    it('infers the same model from both dialects', () => {
      const shape = (e: Engine) =>
        e.model.datasets.map((d) => ({
          name: d.name,
          pk: d.primaryKey,
          fields: d.fields.map((f) => `${f.name}:${f.kind}:${f.type}`),
        }))
      expect(shape(onMysql)).toEqual(shape(onSqlite))
      expect(onMysql.model.joins).toEqual(onSqlite.model.joins)
    })

    for (const question of QUESTIONS) {
      it(`answers "${question}" the same on both`, async () => {
        const a = await onSqlite.ask(admin, { question, asOf: '2025-01-15' })
        const b = await onMysql.ask(admin, { question, asOf: '2025-01-15' })
        expect(b.plan).toEqual(a.plan)
        expect(b.columns).toEqual(a.columns)
        expect(b.rows.length).toBeGreaterThan(0)
        expect(comparable(b)).toEqual(comparable(a))
        b.columns.forEach((c, i) => {
          const v = b.rows[0]?.[i]
          if (v === null || v === undefined) return
          if (c.type === 'integer' || c.type === 'decimal') expect(typeof v).toBe('number')
          if (c.type === 'date') expect(v).toMatch(/^\d{4}-\d{2}-\d{2}$/)
          if (c.type === 'boolean') expect(typeof v).toBe('boolean')
        })
      })
    }

    it('returns time buckets as the period’s first day on both dialects', async () => {
      for (const grain of ['weekly', 'monthly', 'quarterly', 'yearly']) {
        const question = `${grain} calls in 2024`
        const a = await onSqlite.ask(admin, { question })
        const b = await onMysql.ask(admin, { question })
        expect(b.rows, question).toEqual(a.rows)
      }
    })
  })
