import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type DataSource, type Dialect, introspect, openDataSource } from '../packages/core/src/db/index.ts'
import {
  buildValueIndex,
  createEngine,
  type Engine,
  inferModel,
  loadOverrides,
} from '../packages/core/src/engine/index.ts'
import { localPrincipal } from '../packages/core/src/principal.ts'
import { sameAnswer } from './engine-compare.ts'
import { createTestDatabase } from './helpers/mysql.ts'
import { PHARMA_DDL } from './helpers/pharma-ddl.ts'
import { createTestPgDatabase } from './helpers/postgres.ts'

/**
 * Period-over-period series ("quarter over quarter", "monthly change by region", "YoY by quarter",
 * "week over week") on SQLite, MariaDB and PostgreSQL, against hand-written SQL on a small data set
 * with holes: the West has no February 2024 rows, nobody has Q2 or Q4 2024 rows, and the week of
 * 2024-01-20 is empty. The previous period must be the previous calendar period (0 where a group has
 * no rows), never merely the previous row — the gold SQL below states each period's bounds by hand.
 */
const ROWS = {
  territories: [
    { territory_id: 'T1', territory_name: 'Boston', region: 'Northeast', district: 'New England' },
    { territory_id: 'T2', territory_name: 'Denver', region: 'West', district: 'Mountain' },
  ],
  hcps: [
    { hcp_id: 'H1', npi: '1000000001', last_name: 'Smith', specialty: 'Endocrinology', territory_id: 'T1' },
    { hcp_id: 'H2', npi: '1000000002', last_name: 'Jones', specialty: 'Cardiology', territory_id: 'T2' },
  ],
  products: [
    {
      product_id: 'P1',
      product_name: 'Tirosint',
      therapeutic_area: 'Hypothyroidism',
      is_company_product: true,
    },
    {
      product_id: 'P2',
      product_name: 'Synthroid',
      therapeutic_area: 'Hypothyroidism',
      is_company_product: false,
    },
  ],
  prescriptions: [
    [1, 'H1', 'P1', '2024-01-06', 10],
    [2, 'H1', 'P1', '2024-02-03', 20],
    [3, 'H1', 'P1', '2024-03-02', 5],
    [4, 'H2', 'P1', '2024-01-13', 7],
    [5, 'H2', 'P2', '2024-03-09', 4],
    [6, 'H1', 'P2', '2024-07-06', 8],
    [7, 'H2', 'P1', '2025-01-04', 3],
    [8, 'H1', 'P2', '2024-01-27', 2],
    // the last weeks of March 2024 and of Q1 2025 have rows (of 0), so those months and quarters are
    // whole: a series over data that stops inside its last period leaves that change empty
    [9, 'H1', 'P1', '2024-03-30', 0],
    [10, 'H1', 'P1', '2025-03-29', 0],
  ].map(([rx_id, hcp_id, product_id, week_ending, trx]) => ({
    rx_id,
    hcp_id,
    product_id,
    week_ending,
    payer_type: 'Commercial',
    trx,
    nrx: 1,
    quantity: 30,
  })),
}

/** A calendar row: the period's first day, its bounds and the bounds of the period it is compared with. */
type Period = [start: string, end: string, prevStart: string | null, prevEnd: string | null]

/** Hand-written gold: per group × calendar period, the period's total and the compared period's. */
function gold(
  dialect: Dialect,
  cal: Period[],
  groups: { sql: string; col: string } | null,
  product?: string,
) {
  const lit = (v: string | null) =>
    dialect === 'sqlite'
      ? v === null
        ? 'NULL'
        : `'${v}'`
      : `CAST(${v === null ? 'NULL' : `'${v}'`} AS date)`
  const calSql = cal
    .map(
      ([s, e, ps, pe]) =>
        `SELECT '${s}' AS m, ${lit(s)} AS lo, ${lit(e)} AS hi, ${lit(ps)} AS plo, ${lit(pe)} AS phi`,
    )
    .join(' UNION ALL ')
  const where = [
    groups ? `t.region = g.${groups.col}` : '1 = 1',
    product ? `pr.product_name = '${product}'` : '1 = 1',
  ].join(' AND ')
  const sum = (lo: string, hi: string) =>
    `(SELECT COALESCE(SUM(p.trx), 0) FROM prescriptions p JOIN hcps h ON h.hcp_id = p.hcp_id
      JOIN territories t ON t.territory_id = h.territory_id JOIN products pr ON pr.product_id = p.product_id
      WHERE ${where} AND p.week_ending BETWEEN ${lo} AND ${hi})`
  const prev = `CASE WHEN cal.plo IS NULL THEN NULL ELSE ${sum('cal.plo', 'cal.phi')} END`
  return `SELECT ${groups ? `g.${groups.col}, ` : ''}cal.m, ${sum('cal.lo', 'cal.hi')} AS cur, ${prev} AS prev,
    ${sum('cal.lo', 'cal.hi')} - ${prev} AS chg
    FROM (${calSql}) cal${groups ? ` CROSS JOIN (${groups.sql}) g` : ''}`
}

const MONTHS_Q1: Period[] = [
  ['2024-01-01', '2024-01-31', null, null],
  ['2024-02-01', '2024-02-29', '2024-01-01', '2024-01-31'],
  ['2024-03-01', '2024-03-31', '2024-02-01', '2024-02-29'],
]
const QUARTERS: Period[] = [
  ['2024-01-01', '2024-03-31', null, null],
  ['2024-04-01', '2024-06-30', '2024-01-01', '2024-03-31'],
  ['2024-07-01', '2024-09-30', '2024-04-01', '2024-06-30'],
  ['2024-10-01', '2024-12-31', '2024-07-01', '2024-09-30'],
  ['2025-01-01', '2025-03-31', '2024-10-01', '2024-12-31'],
]
const QUARTERS_YOY: Period[] = QUARTERS.map(([s, e], i) =>
  i === 4 ? [s, e, '2024-01-01', '2024-03-31'] : [s, e, null, null],
)
const WEEKS_JAN: Period[] = [
  ['2024-01-06', '2024-01-06', null, null],
  ['2024-01-13', '2024-01-13', '2024-01-06', '2024-01-06'],
  ['2024-01-20', '2024-01-20', '2024-01-13', '2024-01-13'],
  ['2024-01-27', '2024-01-27', '2024-01-20', '2024-01-20'],
]

const CASES: { q: string; gold: (d: Dialect) => string }[] = [
  {
    q: 'monthly change in TRx by region in Q1 2024',
    gold: (d) => gold(d, MONTHS_Q1, { sql: 'SELECT DISTINCT region FROM territories', col: 'region' }),
  },
  { q: 'quarter over quarter TRx change', gold: (d) => gold(d, QUARTERS, null) },
  { q: 'TRx YoY by quarter', gold: (d) => gold(d, QUARTERS_YOY, null) },
  { q: 'week over week TRx in January 2024', gold: (d) => gold(d, WEEKS_JAN, null) },
  {
    q: 'Tirosint TRx growth by month in Q1 2024',
    gold: (d) => gold(d, MONTHS_Q1, null, 'Tirosint'),
  },
]

/** The rows of a raw query, whatever shape the dialect's driver returns them in. */
async function rawRows(ds: DataSource, sql: string): Promise<Record<string, unknown>[]> {
  const out = (await ds.knex.raw(sql)) as unknown
  if (ds.dialect === 'sqlite') return out as Record<string, unknown>[]
  if (ds.dialect === 'postgresql') return (out as { rows: Record<string, unknown>[] }).rows
  return (out as [Record<string, unknown>[]])[0]
}

const TARGETS: { name: string; open: () => Promise<{ ds: DataSource; drop(): Promise<void> }> }[] = [
  {
    name: 'SQLite',
    open: async () => {
      const dir = mkdtempSync(join(tmpdir(), 'nl2q-series-'))
      return {
        ds: openDataSource(`sqlite:${join(dir, 'series.sqlite')}`),
        drop: async () => rmSync(dir, { recursive: true, force: true }),
      }
    },
  },
  {
    name: 'MariaDB',
    open: async () => {
      const db = await createTestDatabase('nl2q_series')
      return { ds: openDataSource(db.url), drop: db.drop }
    },
  },
  {
    name: 'PostgreSQL',
    open: async () => {
      const db = await createTestPgDatabase('nl2q_series')
      return { ds: openDataSource(db.url), drop: db.drop }
    },
  },
]

for (const target of TARGETS)
  describe(`period-over-period series on ${target.name}`, () => {
    let ds: DataSource
    let drop: () => Promise<void>
    let engine: Engine
    const admin = localPrincipal('acme')

    beforeAll(async () => {
      ;({ ds, drop } = await target.open())
      for (const stmt of PHARMA_DDL) await ds.knex.raw(stmt)
      for (const [table, rows] of Object.entries(ROWS)) await ds.knex(table).insert(rows)
      const model = inferModel(await introspect(ds), await loadOverrides('pharma'))
      engine = createEngine({ ds, model, valueIndex: await buildValueIndex(ds, model) })
    }, 120_000)

    afterAll(async () => {
      await ds?.knex.destroy()
      await drop?.()
    })

    for (const c of CASES)
      it(`answers "${c.q}" like the hand-written SQL, periods without rows included`, async () => {
        const r = await engine.ask(admin, { question: c.q, asOf: '2025-06-30' })
        const rows = await rawRows(ds, c.gold(ds.dialect))
        const verdict = sameAnswer(
          rows.map((row) => Object.values(row)),
          r.rows,
        )
        expect(verdict, `${r.interpretation}\n${r.sql}\n${JSON.stringify(r.rows)}`).toEqual({
          ok: true,
          why: '',
        })
        expect(r.interpretation).toMatch(/so (its|their) change is empty/)
      })

    it('gives the West a February of 0 and compares its March with that 0, not with January', async () => {
      const r = await engine.ask(admin, {
        question: 'monthly change in TRx by region in Q1 2024',
        asOf: '2025-06-30',
      })
      const at = (name: string) => r.columns.findIndex((c) => c.name === name)
      const west = r.rows.filter((row) => row[at('region')] === 'West')
      expect(
        west.map((row) => [row[at('month')], row[at('trx')], row[at('trx_previous')], row[at('trx_change')]]),
      ).toEqual([
        ['2024-01-01', 7, null, null],
        ['2024-02-01', 0, 7, -7],
        ['2024-03-01', 4, 0, 4],
      ])
      // no % change from 0
      expect(west[2]?.[at('trx_pct_change')]).toBeNull()
    })

    it('compares an edge period the data only partly covers as it stands, and warns about it', async () => {
      // the rows stop at the week ending 2025-03-29: 2025 holds one of its four quarters
      const r = await engine.ask(admin, { question: 'TRx change by year', asOf: '2025-06-30' })
      const at = (name: string) => r.columns.findIndex((c) => c.name === name)
      const y2025 = r.rows.find((row) => row[at('year')] === '2025-01-01')
      expect(y2025?.[at('trx_change')]).toBe(3 - 56)
      expect(r.warnings.join(' ')).toMatch(
        /ends 2025-03-29, inside the year of 2025-01-01: .*not like for like/,
      )
      // a whole first period: no warning about the start
      expect(r.warnings.join(' ')).not.toMatch(/starts/)
    })

    it('ranks periods by their change only among periods that have one', async () => {
      const r = await engine.ask(admin, {
        question: 'which month had the lowest percent growth in TRx in 2024',
        asOf: '2025-06-30',
      })
      const at = r.columns.findIndex((c) => c.name === 'trx_pct_change')
      expect(r.rows.length).toBeGreaterThan(0)
      for (const row of r.rows) expect(row[at]).not.toBeNull()
    })

    it('refuses a series over a filter with holes rather than counting the left-out periods as empty', async () => {
      const { plan } = engine.plan('TRx change by month in 2024', { asOf: '2025-06-30', principal: admin })
      const time = plan.dimensions.find((d) => d.grain)?.field as string
      const holes = {
        ...plan,
        filter: {
          op: 'or' as const,
          args: [
            { op: 'between' as const, field: time, values: ['2024-01-01', '2024-02-29'] },
            { op: 'between' as const, field: time, values: ['2024-06-01', '2024-07-31'] },
          ],
        },
      }
      await expect(engine.query(admin, holes)).rejects.toThrow(/one unbroken period/)
    })
  })
