import { execFile } from 'node:child_process'
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type DataSource, introspect, openDataSource } from '../packages/core/src/db/index.ts'
import {
  buildValueIndex,
  createEngine,
  type Engine,
  inferModel,
  loadOverrides,
} from '../packages/core/src/engine/index.ts'
import { isHubError } from '../packages/core/src/errors.ts'
import { localPrincipal, type Principal } from '../packages/core/src/principal.ts'
import { goldCaseTests, sameAnswer } from './engine-compare.ts'
import { EVAL, REPO } from './helpers/fixtures.ts'
import { REFERENCE_DB } from './helpers/reference.ts'

/**
 * The NL engine on the pharma demo schema, against a database built by the evaluation's own
 * independent generator (test/fixtures/eval/reference_pharma.py): the dev set through the CLI and check.py,
 * held-out paraphrases against hand-written SQL, refusals, row policy, and planning speed.
 */
const run = promisify(execFile)
const repo = REPO
const AS_OF = '2025-01-15'
const Y24 = "BETWEEN '2024-01-01' AND '2024-12-31'"
const RX_PR = 'FROM prescriptions p JOIN products pr ON pr.product_id = p.product_id'
const RX_H = 'FROM prescriptions p JOIN hcps h ON h.hcp_id = p.hcp_id'

/** Phrasings and combinations that are not in the dev set. */
const heldOut: { q: string; gold: string; ordered?: boolean }[] = [
  {
    q: 'How many new scripts did Synthroid get last year?',
    gold: `SELECT SUM(p.nrx) ${RX_PR} WHERE pr.product_name = 'Synthroid' AND p.week_ending ${Y24}`,
  },
  {
    q: 'Which region wrote the most Tirosint scripts in 2024?',
    gold: `SELECT t.region, SUM(p.trx) v ${RX_H} JOIN territories t ON t.territory_id = h.territory_id
           JOIN products pr ON pr.product_id = p.product_id WHERE pr.product_name = 'Tirosint' AND p.week_ending ${Y24}
           GROUP BY t.region ORDER BY v DESC LIMIT 1`,
  },
  {
    q: 'Show Tirosint and Tirosint-SOL TRx combined by month in 2024',
    gold: `SELECT strftime('%Y-%m-01', p.week_ending) m, SUM(p.trx) ${RX_PR}
           WHERE pr.product_name IN ('Tirosint', 'Tirosint-SOL') AND p.week_ending ${Y24} GROUP BY m ORDER BY m`,
    ordered: true,
  },
  {
    q: 'What is the average list price of company products?',
    gold: 'SELECT AVG(list_price) FROM products WHERE is_company_product = 1',
  },
  {
    q: 'How many calls did each rep make in Q3 2024?',
    gold: "SELECT rep_id, COUNT(*) FROM calls WHERE call_date BETWEEN '2024-07-01' AND '2024-09-30' GROUP BY rep_id",
  },
  { q: 'List reps hired after 2020', gold: "SELECT rep_id FROM reps WHERE hire_date >= '2021-01-01'" },
  { q: 'Count of doctors per state', gold: 'SELECT state, COUNT(*) FROM hcps GROUP BY state' },
  {
    q: 'Which payer type had the fewest TRx in 2023?',
    gold: "SELECT payer_type, SUM(trx) v FROM prescriptions WHERE week_ending BETWEEN '2023-01-01' AND '2023-12-31' GROUP BY payer_type ORDER BY v LIMIT 1",
  },
  {
    q: 'Give me NRx for Levoxyl in the fourth quarter of 2024',
    gold: `SELECT SUM(p.nrx) ${RX_PR} WHERE pr.product_name = 'Levoxyl' AND p.week_ending BETWEEN '2024-10-01' AND '2024-12-31'`,
  },
  {
    q: 'number of distinct prescribers of Cytomel in 2024',
    gold: `SELECT COUNT(DISTINCT p.hcp_id) ${RX_PR} WHERE pr.product_name = 'Cytomel' AND p.week_ending ${Y24}`,
  },
  {
    q: 'Which 3 territories had the lowest NRx in 2024?',
    gold: `SELECT h.territory_id, SUM(p.nrx) v ${RX_H} WHERE p.week_ending ${Y24} GROUP BY h.territory_id ORDER BY v LIMIT 3`,
    ordered: true,
  },
  {
    q: 'TRx by product excluding Synthroid in 2024',
    gold: `SELECT pr.product_name, SUM(p.trx) ${RX_PR} WHERE pr.product_name <> 'Synthroid' AND p.week_ending ${Y24} GROUP BY pr.product_name`,
  },
  {
    q: 'total scripts for non-company products in H1 2024',
    gold: `SELECT SUM(p.trx) ${RX_PR} WHERE pr.is_company_product = 0 AND p.week_ending BETWEEN '2024-01-01' AND '2024-06-30'`,
  },
  {
    q: 'Average duration of virtual calls by month in 2024',
    gold: `SELECT strftime('%Y-%m-01', call_date) m, AVG(duration_minutes) FROM calls WHERE channel = 'Virtual' AND call_date ${Y24} GROUP BY m ORDER BY m`,
    ordered: true,
  },
  {
    q: 'How many HCPs did we call on in 2024?',
    gold: `SELECT COUNT(DISTINCT hcp_id) FROM calls WHERE call_date ${Y24}`,
  },
  {
    q: 'Endocrinologists in the Southwest with more than 200 TRx in 2024',
    gold: `SELECT h.hcp_id, SUM(p.trx) ${RX_H} JOIN territories t ON t.territory_id = h.territory_id
           WHERE h.specialty = 'Endocrinology' AND t.region = 'Southwest' AND p.week_ending ${Y24} GROUP BY h.hcp_id HAVING SUM(p.trx) > 200`,
  },
  {
    q: 'Compare NRx for Tirosint and Synthroid in 2024',
    gold: `SELECT pr.product_name, SUM(p.nrx) ${RX_PR} WHERE pr.product_name IN ('Tirosint', 'Synthroid') AND p.week_ending ${Y24} GROUP BY pr.product_name`,
  },
  {
    q: 'quarterly TRx for Armour Thyroid in 2023',
    gold: `SELECT printf('%s-%02d-01', strftime('%Y', p.week_ending), ((CAST(strftime('%m', p.week_ending) AS INTEGER)-1)/3)*3+1) q, SUM(p.trx) ${RX_PR}
           WHERE pr.product_name = 'Armour Thyroid' AND p.week_ending BETWEEN '2023-01-01' AND '2023-12-31' GROUP BY q ORDER BY q`,
    ordered: true,
  },
  {
    q: 'Which products are made by Pfizer?',
    gold: "SELECT product_name FROM products WHERE manufacturer = 'Pfizer'",
  },
  {
    q: 'calls per channel for Tirosint-SOL last month',
    gold: `SELECT c.channel, COUNT(*) FROM calls c JOIN products pr ON pr.product_id = c.product_id
           WHERE pr.product_name = 'Tirosint-SOL' AND c.call_date BETWEEN '2024-12-01' AND '2024-12-31' GROUP BY c.channel`,
  },
  {
    q: 'HCPs in segment B in Illinois',
    gold: "SELECT hcp_id FROM hcps WHERE segment = 'B' AND state = 'IL'",
  },
  {
    q: 'How many Medicaid scripts in Q2 2024?',
    gold: "SELECT SUM(trx) FROM prescriptions WHERE payer_type = 'Medicaid' AND week_ending BETWEEN '2024-04-01' AND '2024-06-30'",
  },
  {
    q: 'What was the TRx trend for Synthroid over the last 6 months?',
    gold: `SELECT strftime('%Y-%m-01', p.week_ending) m, SUM(p.trx) ${RX_PR}
           WHERE pr.product_name = 'Synthroid' AND p.week_ending BETWEEN '2024-07-01' AND '2024-12-31' GROUP BY m ORDER BY m`,
    ordered: true,
  },
  {
    q: 'Total Tirosnt prescriptions in 2024',
    gold: `SELECT SUM(p.trx) ${RX_PR} WHERE pr.product_name = 'Tirosint' AND p.week_ending ${Y24}`,
  },
]

const refusals: { q: string; code: string }[] = [
  { q: 'Drop table hcps', code: 'READ_ONLY' },
  { q: 'update the list price of Synthroid to 50', code: 'READ_ONLY' },
  { q: 'Can you remove the cancelled calls?', code: 'READ_ONLY' },
  { q: 'What is the revenue for Tirosint?', code: 'UNANSWERABLE' },
  { q: 'Show me HCP social security numbers', code: 'UNKNOWN_FIELD' },
  { q: 'Predict next quarter’s TRx for Tirosint', code: 'UNANSWERABLE' },
  { q: 'TRx for Tirosint more than', code: 'AMBIGUOUS' },
  { q: 'Which HCPs in segment A wrote no Tirosint?', code: 'AMBIGUOUS' },
  { q: 'Which doctors prescribe both Tirosint and Synthroid?', code: 'AMBIGUOUS' },
]

function viewer(territories?: string[]): Principal {
  const p = localPrincipal('acme', ['viewer'])
  return { ...p, attributes: territories ? { territories } : {} }
}

describe('engine on the pharma reference database', () => {
  let dir: string
  let db: string
  let ds: DataSource
  let engine: Engine
  let inferred: Engine
  const admin = localPrincipal('acme')

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'nl2q-pharma-'))
    // a copy: check.py and the CLI it runs open this file in processes of their own
    db = join(dir, 'ref.sqlite')
    copyFileSync(REFERENCE_DB, db)
    ds = openDataSource(`sqlite:${db}`, { readOnly: true })
    const schema = await introspect(ds)
    const model = inferModel(schema, await loadOverrides('pharma'))
    engine = createEngine({ ds, model, valueIndex: await buildValueIndex(ds, model) })
    const bare = inferModel(schema)
    inferred = createEngine({ ds, model: bare, valueIndex: await buildValueIndex(ds, bare) })
  }, 180_000)

  afterAll(async () => {
    await ds?.knex.destroy()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  it.each(['pharma-dev.jsonl', 'pharma-dev-shapes.jsonl'])(
    'scores at least 95 percent on %s through `hub ask --batch` and check.py, without changing data',
    async (set) => {
      const cli = join(repo, 'packages', 'core', 'src', 'cli', 'main.ts')
      const tsx = join(repo, 'node_modules', '.bin', 'tsx')
      const { stdout } = await run(
        'python3',
        [
          join(EVAL, 'check.py'),
          db,
          join(EVAL, set),
          '--',
          tsx,
          cli,
          'ask',
          '--db',
          `sqlite:${db}`,
          '--model',
          'pharma',
          '--json',
        ],
        { env: { ...process.env, EVAL_FLOOR: '95' }, maxBuffer: 16 * 1024 * 1024 },
      )
      expect(stdout).toMatch(/correct \((9[5-9]|100)\.\d%\)/)
      expect(stdout).not.toMatch(/DATA CHANGED/)
    },
    240_000,
  )

  it('answers most of the dev set with the purely inferred model (no overrides)', async () => {
    const dev = readFileSync(join(EVAL, 'pharma-dev.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map(
        (l) =>
          JSON.parse(l) as {
            question: string
            expect: string
            gold?: string
            asOf?: string
            ordered?: boolean
          },
      )
    let right = 0
    for (const q of dev) {
      const r = await inferred
        .ask(admin, { question: q.question, asOf: q.asOf ?? AS_OF })
        .catch((e: unknown) => e)
      if (q.expect === 'refuse') {
        if (isHubError(r)) right++
        continue
      }
      if (isHubError(r) || !q.gold || r instanceof Error) continue
      const gold = (await ds.knex.raw(q.gold)) as Record<string, unknown>[]
      const got = r as { rows: unknown[][] }
      if (
        sameAnswer(
          gold.map((x) => Object.values(x)),
          got.rows,
          q.ordered,
        ).ok
      )
        right++
    }
    expect(right / dev.length).toBeGreaterThanOrEqual(0.85)
  }, 60_000)

  goldCaseTests(() => ({ engine, ds }), admin, AS_OF, heldOut, refusals)

  it('restates what it understood, with the plan and the SQL', async () => {
    const r = await engine.ask(admin, { question: 'What were total TRx for Tirosint in Q4 2024?' })
    expect(r.interpretation).toBe('Total TRx for product Tirosint, week ending 2024-10-01 to 2024-12-31')
    expect(r.plan).toMatchObject({
      dataset: 'prescriptions',
      measures: [{ field: 'prescriptions.trx', aggregation: 'sum' }],
    })
    expect(r.sql).toMatch(/select SUM\(/i)
    expect(r.sql).not.toContain('Tirosint')
    expect(r.columns).toEqual([{ name: 'trx', type: 'integer', label: 'Total TRx' }])
  })

  it('suggests example questions when it refuses', async () => {
    const err = await engine
      .ask(admin, { question: 'What is the weather in Boston?' })
      .catch((e: unknown) => e)
    expect(isHubError(err) && err.code).toBe('UNANSWERABLE')
    const suggestions = isHubError(err) ? (err.details?.suggestions as string[]) : []
    expect(suggestions.length).toBeGreaterThan(0)
    for (const s of suggestions) expect(() => engine.plan(s, { asOf: AS_OF })).not.toThrow()
  })

  it('limits a territory-scoped viewer to their territories, through joins', async () => {
    const q = { question: 'TRx by territory in 2024', asOf: AS_OF }
    const all = await engine.ask(admin, q)
    const mine = await engine.ask(viewer(['ACM-T01', 'ACM-T05']), q)
    expect(all.rows).toHaveLength(20)
    expect(mine.rows.map((r) => r[0]).sort()).toEqual(['ACM-T01', 'ACM-T05'])
    const byRegion = await engine.ask(viewer(['ACM-T01']), { question: 'How many HCPs are there by region?' })
    const total = (await ds.knex.raw("SELECT COUNT(*) n FROM hcps WHERE territory_id = 'ACM-T01'")) as {
      n: number
    }[]
    expect(byRegion.rows).toEqual([['Northeast', total[0]?.n]])
  })

  it('shows a viewer without territories nothing under the territory rule (fail closed)', async () => {
    const r = await engine.ask(viewer(), { question: 'How many calls were there in 2024?', asOf: AS_OF })
    expect(r.rows).toEqual([[0]])
  })

  it('plans and compiles a question in well under a millisecond (median)', () => {
    const dev = readFileSync(join(EVAL, 'pharma-dev.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { question: string; asOf?: string })
    const times: number[] = []
    for (let rep = 0; rep < 30; rep++) {
      for (const q of dev) {
        const t = performance.now()
        try {
          engine.compile(engine.plan(q.question, { asOf: q.asOf ?? AS_OF, principal: admin }).plan, admin)
        } catch {
          // refusals are timed too
        }
        if (rep >= 5) times.push(performance.now() - t)
      }
    }
    times.sort((a, b) => a - b)
    expect(times[times.length >> 1]).toBeLessThan(1)
  })
})
