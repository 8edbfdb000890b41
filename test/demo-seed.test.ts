import { createHash } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type DataSource, introspect, openDataSource } from '../packages/core/src/db/index.ts'
import { PHARMA_TABLES, type SeedResult, seedPharma } from '../packages/core/src/demo/index.ts'
import { createTestDatabase } from './helpers/mysql.ts'
import { createTestPgDatabase } from './helpers/postgres.ts'

// Scale 0.05: 100 HCPs, ~15,000 prescriptions, 2,000 calls — every check runs in seconds.
const OPTIONS = { prefix: 'ACM', seed: 7, scale: 0.05 }

const dir = mkdtempSync(join(tmpdir(), 'nl2q-demo-'))
let mysqlDb: Awaited<ReturnType<typeof createTestDatabase>>
let pgDb: Awaited<ReturnType<typeof createTestPgDatabase>>
const targets: Record<'sqlite' | 'mysql' | 'postgresql', { ds: DataSource; result: SeedResult }> = {} as never

async function rows<T = Record<string, unknown>>(ds: DataSource, sql: string): Promise<T[]> {
  const r = await ds.knex.raw(sql)
  return (ds.dialect === 'mysql' ? r[0] : ds.dialect === 'postgresql' ? r.rows : r) as T[]
}

async function scalar(ds: DataSource, sql: string): Promise<number> {
  const [row] = await rows<Record<string, unknown>>(ds, sql)
  return Number(Object.values(row ?? {})[0])
}

/** Order-independent digest of every table's rows (MySQL's _ci collation orders ids differently). */
async function checksum(ds: DataSource): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  for (const t of PHARMA_TABLES) {
    const cols = t.columns.map((c) => c.name)
    const all = (await ds.knex(t.name).select(cols)) as Record<string, unknown>[]
    // booleans: 0/1 on SQLite and MySQL, true/false on PostgreSQL
    const cell = (v: unknown) => (typeof v === 'boolean' ? Number(v) : v)
    const lines = all.map((r) => JSON.stringify(cols.map((c) => cell(r[c])))).sort()
    out[t.name] = createHash('sha256').update(lines.join('\n')).digest('hex')
  }
  return out
}

beforeAll(async () => {
  mysqlDb = await createTestDatabase('nl2q_demo')
  pgDb = await createTestPgDatabase('nl2q_demo')
  for (const [dialect, url] of [
    ['sqlite', `sqlite:${join(dir, 'acme.sqlite')}`],
    ['mysql', mysqlDb.url],
    ['postgresql', pgDb.url],
  ] as const) {
    const ds = openDataSource(url)
    targets[dialect] = { ds, result: await seedPharma(ds, OPTIONS) }
  }
})

afterAll(async () => {
  for (const t of Object.values(targets)) await t?.ds.knex.destroy()
  await mysqlDb?.drop()
  await pgDb?.drop()
  rmSync(dir, { recursive: true, force: true })
})

describe.each(['sqlite', 'mysql', 'postgresql'] as const)('seedPharma on %s', (dialect) => {
  const ds = (): DataSource => targets[dialect].ds

  it('loads the documented row counts at scale 0.05 and reports them', async () => {
    const { counts } = targets[dialect].result
    expect(counts).toMatchObject({ territories: 20, reps: 40, hcps: 100, products: 7, calls: 2000 })
    expect(counts.prescriptions).toBeGreaterThan(10_000)
    expect(counts.prescriptions).toBeLessThan(20_000)
    for (const [table, n] of Object.entries(counts))
      expect(await scalar(ds(), `SELECT COUNT(*) FROM ${table}`), table).toBe(n)
  })

  it('keeps every value in its documented domain', async () => {
    const weeks = await rows<{ w: string }>(ds(), 'SELECT DISTINCT week_ending AS w FROM prescriptions')
    const notSaturday = weeks.filter(({ w }) => new Date(`${w}T00:00:00Z`).getUTCDay() !== 6)
    expect(notSaturday).toEqual([])
    expect(weeks.every(({ w }) => w >= '2023-01-07' && w <= '2024-12-28')).toBe(true)
    expect(
      await scalar(ds(), 'SELECT COUNT(*) FROM prescriptions WHERE trx < 1 OR nrx < 0 OR nrx > trx'),
    ).toBe(0)
    expect(
      await scalar(
        ds(),
        "SELECT COUNT(*) FROM prescriptions WHERE payer_type NOT IN ('Commercial','Medicare','Medicaid','Cash')",
      ),
    ).toBe(0)
    expect(
      await scalar(ds(), "SELECT COUNT(*) FROM calls WHERE channel = 'Email' AND duration_minutes <> 0"),
    ).toBe(0)
    expect(await scalar(ds(), "SELECT COUNT(*) FROM calls WHERE channel = 'Email'")).toBeGreaterThan(0)
    expect(
      await scalar(
        ds(),
        "SELECT COUNT(*) FROM calls WHERE call_date < '2023-01-01' OR call_date > '2024-12-31'",
      ),
    ).toBe(0)
    const products = await rows<{ product_name: string; is_company_product: number }>(
      ds(),
      'SELECT product_name, is_company_product FROM products WHERE is_company_product ORDER BY product_name',
    )
    expect(products.map((p) => p.product_name)).toEqual(['Tirosint', 'Tirosint-SOL'])
  })

  it("carries the tenant's prefix in every identifier", async () => {
    for (const [table, column] of [
      ['territories', 'territory_id'],
      ['reps', 'rep_id'],
      ['hcps', 'hcp_id'],
      ['products', 'product_id'],
      ['prescriptions', 'hcp_id'],
      ['calls', 'rep_id'],
    ])
      expect(
        await scalar(ds(), `SELECT COUNT(*) FROM ${table} WHERE ${column} NOT LIKE 'ACM-%'`),
        table,
      ).toBe(0)
    const ids = await rows<{ call_id: string }>(ds(), 'SELECT call_id FROM calls')
    expect(ids.filter((r) => r.call_id.length !== 18 || !r.call_id.startsWith('a0CACM'))).toEqual([])
    const accounts = await rows<{ a: string }>(ds(), 'SELECT crm_account_id AS a FROM hcps')
    expect(accounts.filter((r) => r.a.length !== 18 || !r.a.startsWith('001ACM'))).toEqual([])
  })

  it('has no orphan rows behind any foreign key, and calls come from a rep of the HCP territory', async () => {
    for (const t of PHARMA_TABLES)
      for (const f of t.foreignKeys) {
        const orphans = await scalar(
          ds(),
          `SELECT COUNT(*) FROM ${t.name} c LEFT JOIN ${f.refTable} p ON p.${f.refColumn} = c.${f.column}
            WHERE c.${f.column} IS NOT NULL AND p.${f.refColumn} IS NULL`,
        )
        expect(orphans, `${t.name}.${f.column}`).toBe(0)
      }
    expect(
      await scalar(
        ds(),
        'SELECT COUNT(*) FROM calls c JOIN hcps h ON h.hcp_id = c.hcp_id JOIN reps r ON r.rep_id = c.rep_id WHERE r.territory_id <> h.territory_id',
      ),
    ).toBe(0)
  })

  it('declares primary keys, unique keys and foreign keys that introspect() sees', async () => {
    const schema = await introspect(ds())
    for (const def of PHARMA_TABLES) {
      const t = schema.tables.find((x) => x.name === def.name)
      expect(t, def.name).toBeDefined()
      expect(t?.primaryKey).toEqual([def.primaryKey])
      const fks = (t?.foreignKeys ?? [])
        .map((f) => `${f.columns.join()}->${f.refTable}.${f.refColumns.join()}`)
        .sort()
      expect(fks, def.name).toEqual(
        def.foreignKeys.map((f) => `${f.column}->${f.refTable}.${f.refColumn}`).sort(),
      )
      for (const u of def.unique)
        expect(t?.columns.find((c) => c.name === u)?.unique, `${def.name}.${u}`).toBe(true)
    }
    const types = Object.fromEntries(
      (schema.tables.find((t) => t.name === 'products')?.columns ?? []).map((c) => [c.name, c.type]),
    )
    expect(types).toMatchObject({ is_company_product: 'boolean', launch_date: 'date', list_price: 'decimal' })
    expect(
      schema.tables.find((t) => t.name === 'calls')?.columns.find((c) => c.name === 'product_id')?.nullable,
    ).toBe(true)
  })

  it('gives segment A prescribers a higher mean TRx than segment D', async () => {
    const bySegment = await rows<{ segment: string; v: number }>(
      ds(),
      'SELECT h.segment, AVG(p.trx) AS v FROM prescriptions p JOIN hcps h ON h.hcp_id = p.hcp_id GROUP BY h.segment',
    )
    const mean = (s: string): number => Number(bySegment.find((r) => r.segment === s)?.v)
    expect(mean('A')).toBeGreaterThan(mean('D'))
  })

  it('refuses to seed over existing pharma tables without replace and leaves them untouched', async () => {
    await expect(seedPharma(ds(), { ...OPTIONS, prefix: 'GLX' })).rejects.toMatchObject({ code: 'CONFLICT' })
    expect(await scalar(ds(), "SELECT COUNT(*) FROM hcps WHERE hcp_id LIKE 'ACM-%'")).toBe(100)
  })
})

describe('seedPharma across dialects', () => {
  it('loads identical rows into SQLite and MariaDB for the same prefix, seed and scale', async () => {
    const [a, b] = [await checksum(targets.sqlite.ds), await checksum(targets.mysql.ds)]
    expect(b).toEqual(a)
  })

  it('loads identical rows into SQLite and PostgreSQL for the same prefix, seed and scale', async () => {
    const [a, b] = [await checksum(targets.sqlite.ds), await checksum(targets.postgresql.ds)]
    expect(b).toEqual(a)
  })
})
