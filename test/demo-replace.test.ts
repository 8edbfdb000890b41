import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type DataSource, introspect, openDataSource } from '../packages/core/src/db/index.ts'
import {
  createPharmaSchema,
  dropPharmaSchema,
  PHARMA_TABLE_NAMES,
  type SeedOptions,
  seedPharma,
} from '../packages/core/src/demo/index.ts'
import { createTestDatabase } from './helpers/mysql.ts'

const SMALL = { seed: 3, scale: 0.02 }
const dir = mkdtempSync(join(tmpdir(), 'nl2q-demo-replace-'))
let mysqlDb: Awaited<ReturnType<typeof createTestDatabase>>
const sources: DataSource[] = []

beforeAll(async () => {
  mysqlDb = await createTestDatabase('nl2q_demo_r')
})

afterAll(async () => {
  for (const ds of sources) await ds.knex.destroy()
  await mysqlDb?.drop()
  rmSync(dir, { recursive: true, force: true })
})

function open(dialect: 'sqlite' | 'mysql', name: string): DataSource {
  // One pooled connection, so a session setting left behind by the loader would be visible.
  const ds = openDataSource(dialect === 'sqlite' ? `sqlite:${join(dir, `${name}.sqlite`)}` : mysqlDb.url, {
    pool: { max: 1 },
  })
  sources.push(ds)
  return ds
}

async function one(ds: DataSource, sql: string): Promise<unknown> {
  const r = await ds.knex.raw(sql)
  const row = (ds.dialect === 'mysql' ? r[0] : r)[0] as Record<string, unknown> | undefined
  return Object.values(row ?? {})[0]
}

async function pharmaTables(ds: DataSource): Promise<string[]> {
  return (await introspect(ds)).tables.map((t) => t.name).filter((n) => PHARMA_TABLE_NAMES.includes(n))
}

/** Seed, cancelling as soon as the prescriptions load has reported progress. */
function seedAndCancel(ds: DataSource, opts: Omit<SeedOptions, 'signal' | 'onProgress'>): Promise<unknown> {
  const ac = new AbortController()
  return seedPharma(ds, {
    ...opts,
    signal: ac.signal,
    onProgress: (_done, _total, table) => {
      if (table === 'prescriptions') ac.abort()
    },
  })
}

describe.each(['sqlite', 'mysql'] as const)('demo schema lifecycle on %s', (dialect) => {
  it('creates the empty schema with its keys, refuses to create it twice, and drops it', async () => {
    const ds = open(dialect, 'schema')
    await createPharmaSchema(ds)
    const schema = await introspect(ds)
    expect(schema.tables.map((t) => t.name).sort()).toEqual([...PHARMA_TABLE_NAMES].sort())
    expect(schema.tables.find((t) => t.name === 'prescriptions')?.foreignKeys).toHaveLength(2)
    expect(Number(await one(ds, 'SELECT COUNT(*) FROM prescriptions'))).toBe(0)
    await expect(createPharmaSchema(ds)).rejects.toMatchObject({ code: 'CONFLICT' })
    await dropPharmaSchema(ds)
    expect(await pharmaTables(ds)).toEqual([])
  })

  it('replaces an existing demo only when asked, leaving no row of the old tenant', async () => {
    const ds = open(dialect, 'replace')
    await seedPharma(ds, { ...SMALL, prefix: 'ACM' })
    const { counts } = await seedPharma(ds, { ...SMALL, prefix: 'GLX', replace: true })
    expect(Number(await one(ds, "SELECT COUNT(*) FROM hcps WHERE hcp_id NOT LIKE 'GLX-%'"))).toBe(0)
    expect(Number(await one(ds, "SELECT COUNT(*) FROM calls WHERE hcp_id NOT LIKE 'GLX-%'"))).toBe(0)
    expect(Number(await one(ds, 'SELECT COUNT(*) FROM prescriptions'))).toBe(counts.prescriptions)
    await dropPharmaSchema(ds)
  })

  it('rejects an invalid prefix or scale before touching the database', async () => {
    const ds = open(dialect, 'invalid')
    await expect(seedPharma(ds, { ...SMALL, prefix: 'acm' })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    })
    await expect(seedPharma(ds, { ...SMALL, prefix: 'ACM', scale: 0 })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    })
    expect(await pharmaTables(ds)).toEqual([])
  })
})

describe('cancelling a seed', () => {
  it('on SQLite rolls back to the previous demo, even when replacing it', async () => {
    const ds = open('sqlite', 'cancel')
    await seedPharma(ds, { ...SMALL, prefix: 'ACM' })
    await expect(seedAndCancel(ds, { ...SMALL, prefix: 'GLX', replace: true })).rejects.toMatchObject({
      name: 'AbortError',
    })
    expect(Number(await one(ds, 'SELECT COUNT(*) FROM hcps'))).toBe(40)
    expect(Number(await one(ds, "SELECT COUNT(*) FROM hcps WHERE hcp_id LIKE 'ACM-%'"))).toBe(40)
    expect(Number(await one(ds, 'SELECT COUNT(*) FROM calls'))).toBe(800)
  })

  it('on MariaDB drops the half-loaded tables and restores the session settings', async () => {
    const ds = open('mysql', 'cancel')
    await expect(seedAndCancel(ds, { ...SMALL, prefix: 'ACM' })).rejects.toMatchObject({ name: 'AbortError' })
    expect(await pharmaTables(ds)).toEqual([])
    expect(Number(await one(ds, 'SELECT @@SESSION.foreign_key_checks'))).toBe(1)
    expect(Number(await one(ds, 'SELECT @@SESSION.unique_checks'))).toBe(1)
    expect(Number(await one(ds, 'SELECT @@SESSION.autocommit'))).toBe(1)
  })
})
