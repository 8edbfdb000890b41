import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type DataSource, introspect, openDataSource } from '../packages/core/src/db/index.ts'
import { seedPharma } from '../packages/core/src/demo/index.ts'
import {
  buildValueIndex,
  createEngine,
  type Engine,
  inferModel,
  loadOverrides,
} from '../packages/core/src/engine/index.ts'
import { localPrincipal } from '../packages/core/src/principal.ts'

/**
 * The demo's calendar ends at the last complete week (a Saturday) before the seed date — today by
 * default — so relative periods asked on a fresh demo have data. The other suites seed with the fixed
 * date in vitest.config.ts; this one seeds with a chosen date and with today.
 */
async function seeded(dir: string, name: string, seedDate?: string): Promise<DataSource> {
  const ds = openDataSource(`sqlite:${join(dir, `${name}.sqlite`)}`)
  await seedPharma(ds, { prefix: 'ACM', seed: 7, scale: 0.02, ...(seedDate ? { seedDate } : {}) })
  return ds
}

async function engineOn(ds: DataSource): Promise<Engine> {
  const model = inferModel(await introspect(ds), await loadOverrides('pharma'))
  return createEngine({ ds, model, valueIndex: await buildValueIndex(ds, model) })
}

const one = async (ds: DataSource, sql: string) => ((await ds.knex.raw(sql)) as Record<string, unknown>[])[0]

describe('demo calendar', () => {
  let dir: string
  let fixed: DataSource
  let today: DataSource
  const saved = process.env.NL2Q_DEMO_SEED_DATE

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'nl2q-demo-calendar-'))
    fixed = await seeded(dir, 'fixed', '2026-12-05')
    // the default: no option and no environment override → today
    delete process.env.NL2Q_DEMO_SEED_DATE
    try {
      today = await seeded(dir, 'today')
    } finally {
      if (saved !== undefined) process.env.NL2Q_DEMO_SEED_DATE = saved
    }
  }, 120_000)

  afterAll(async () => {
    await fixed?.knex.destroy()
    await today?.knex.destroy()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  it('ends at the last complete week before the seed date, two years of Saturdays', async () => {
    // 2026-12-05 is a Saturday: its own week is not complete yet, so the data ends a week earlier
    const rx = await one(
      fixed,
      "SELECT MIN(week_ending) lo, MAX(week_ending) hi, COUNT(DISTINCT week_ending) n, SUM(strftime('%w', week_ending) <> '6') odd FROM prescriptions",
    )
    expect(rx).toEqual({ lo: '2024-12-07', hi: '2026-11-28', n: 104, odd: 0 })
    const calls = await one(fixed, 'SELECT MIN(call_date) lo, MAX(call_date) hi FROM calls')
    expect(String(calls?.lo) >= '2024-12-01').toBe(true)
    // calls run past the last week ending (to a Tuesday) but never reach the seed date
    expect(String(calls?.hi) < '2026-12-05').toBe(true)
    // hire dates move with the calendar: no call precedes its rep's hire date
    const early = await one(
      fixed,
      'SELECT COUNT(*) n FROM calls c JOIN reps r ON r.rep_id = c.rep_id WHERE c.call_date < r.hire_date',
    )
    expect(early).toEqual({ n: 0 })
  })

  it('answers last week, last month and last quarter on a demo seeded today, asked today, without warnings', async () => {
    const engine = await engineOn(today)
    const admin = localPrincipal('acme')
    for (const question of ['TRx last quarter', 'number of calls last month', 'NRx last week']) {
      const r = await engine.ask(admin, { question })
      expect(r.warnings, question).toEqual([])
      expect(r.rows[0]?.[0], question).toBeGreaterThan(0)
    }
  })
  it('works out the warnings of a frozen (plan-cached) plan once, and of any other plan each time', async () => {
    const engine = await engineOn(fixed)
    const { plan } = engine.plan('Total TRx in 2023', { asOf: '2026-12-05' })
    const first = await engine.warnings(plan)
    // 2023 lies before the data (from 2024-12-07): the warning that says so
    expect(first.join(' ')).toMatch(/has no rows/)
    expect(await engine.warnings(plan)).not.toBe(first)
    const frozen = structuredClone(plan)
    Object.freeze(frozen)
    const once = await engine.warnings(frozen)
    expect(once).toEqual(first)
    expect(await engine.warnings(frozen)).toBe(once)
  })
})
