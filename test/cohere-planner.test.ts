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
  withInferredKeys,
} from '../packages/core/src/engine/index.ts'
import {
  coherePlannerFromEnv,
  createCoherePlanner,
  type LlmPlanner,
} from '../packages/core/src/engine/llm/cohere-planner.ts'
import { parseOverrides } from '../packages/core/src/engine/model/overrides.ts'
import { isHubError } from '../packages/core/src/errors.ts'
import { localPrincipal } from '../packages/core/src/principal.ts'
import {
  type CohereReply,
  FAKE_COHERE_KEY,
  type FakeCohere,
  startFakeCohere,
} from './emulators/cohere/server.ts'
import { loadUnseen } from './fixtures/unseen/gen.ts'
import { saas } from './fixtures/unseen/saas.ts'

/**
 * The optional Cohere planner, through the real `cohere-ai` client against a protocol-faithful
 * Chat API v2 emulator on loopback: a valid plan is answered (and says so), every bad plan —
 * invalid, reaching another tenant's tables, a forbidden field, SQL text — is refused and never
 * run; timeouts, 429s and the per-tenant budget refuse too; without a key nothing changes.
 */
const REVENUE_BY_INDUSTRY = {
  dataset: 'invoices',
  measures: [{ field: 'invoices.amount', aggregation: 'sum', as: 'revenue' }],
  dimensions: [{ field: 'accounts.industry', as: 'industry' }],
  order: [{ by: 'industry', direction: 'asc' }],
}

const REPLIES: Record<string, CohereReply> = {
  'how big is our wallet size per vertical': { plan: REVENUE_BY_INDUSTRY },
  'wallet size with sql': { plan: { ...REVENUE_BY_INDUSTRY, sql: 'SELECT * FROM accounts' } },
  'wallet size of the other tenant': {
    plan: {
      dataset: 'prescriptions',
      measures: [{ field: 'prescriptions.trx', aggregation: 'sum', as: 'trx' }],
    },
  },
  'wallet size by nation': {
    plan: { ...REVENUE_BY_INDUSTRY, dimensions: [{ field: 'accounts.country', as: 'country' }], order: [] },
  },
  'wallet size with an injected value': {
    plan: {
      ...REVENUE_BY_INDUSTRY,
      filter: { op: 'eq', field: 'accounts.industry', value: "x'; DROP TABLE accounts; --" },
    },
  },
  'wallet size as prose': { text: 'Sure! Here is the revenue by industry.' },
  'wallet size nobody knows': { plan: { dataset: '', measures: [] } },
  'wallet size slowly': { delayMs: 3_000, reply: { plan: REVENUE_BY_INDUSTRY } },
  'wallet size while throttled': { status: 429, message: 'too many requests' },
}

describe('Cohere planner fallback (cohere-ai client → loopback Chat API v2 emulator)', () => {
  let dir: string
  let ds: DataSource
  let fake: FakeCohere
  let engine: Engine
  let plain: Engine
  const admin = localPrincipal('saas')
  const analyst = localPrincipal('saas', ['analyst'])

  const planner = (over: Partial<Parameters<typeof createCoherePlanner>[0]> = {}): LlmPlanner =>
    createCoherePlanner({
      apiKey: FAKE_COHERE_KEY,
      baseUrl: fake.url,
      timeoutMs: 1_000,
      maxRetries: 1,
      ...over,
    })

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'nl2q-cohere-'))
    await loadUnseen(saas, `sqlite:${join(dir, 'saas.sqlite')}`)
    ds = openDataSource(`sqlite:${join(dir, 'saas.sqlite')}`, { readOnly: true })
    fake = await startFakeCohere((q) => REPLIES[q] ?? { status: 400, message: `no scripted reply for ${q}` })
    // accounts.country is for admins only: an analyst's plan that reads it is refused
    const overrides = parseOverrides({
      datasets: { accounts: { fields: { country: { roles: ['admin'] } } } },
    })
    const model = inferModel(await withInferredKeys(await introspect(ds), ds), overrides)
    const valueIndex = await buildValueIndex(ds, model)
    engine = createEngine({ ds, model, valueIndex, llm: planner() })
    plain = createEngine({ ds, model, valueIndex })
  }, 60_000)

  afterAll(async () => {
    await fake?.close()
    await ds?.knex.destroy()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  const refusal = async (e: Engine, q: string, p = analyst) => {
    const err = await e.ask(p, { question: q, asOf: saas.asOf }).catch((x: unknown) => x)
    expect(isHubError(err), String(err)).toBe(true)
    return err as { code: string; details?: { planner?: { outcome: string; reason: string } } }
  }

  it('answers a question the parser refuses with the model plan, says so, and remembers the plan', async () => {
    const q = 'how big is our wallet size per vertical'
    const r = await engine.ask(analyst, { question: q, asOf: saas.asOf })
    expect(r.planner).toBe('cohere')
    expect(r.plannerModel).toBe('command-a-03-2025')
    expect(r.interpretation).toMatch(/planned by cohere command-a-03-2025/)
    const gold = (await ds.knex.raw(
      'SELECT a.industry, SUM(i.amount) v FROM invoices i JOIN accounts a ON a.id = i.account_id GROUP BY a.industry ORDER BY a.industry',
    )) as { industry: string; v: number }[]
    expect(r.rows).toEqual(gold.map((g) => [g.industry, g.v]))
    const sent = fake.requests.length
    await engine.ask(analyst, { question: q, asOf: saas.asOf })
    expect(fake.requests.length).toBe(sent)
    const req = fake.requests.at(-1)
    expect(req?.authorization).toBe(`Bearer ${FAKE_COHERE_KEY}`)
    expect(req?.body.response_format?.type).toBe('json_object')
    expect(JSON.stringify(req?.body.response_format?.json_schema)).toMatch(/"dataset"/)
  })

  it('sends a model card with no row values and no field the principal may not see', () => {
    const card = fake.requests[0]?.body.messages?.find((m) => m.role === 'system')?.content ?? ''
    expect(card).toMatch(/"ref":"invoices.amount"/)
    expect(card).toMatch(/invoices.account_id -> accounts.id/)
    expect(card).not.toMatch(/accounts\.country/)
    for (const value of ['Healthcare', 'enterprise', 'overdue']) expect(card).not.toContain(value)
  })

  it('refuses a plan that carries SQL text', async () => {
    const err = await refusal(engine, 'wallet size with sql')
    expect(err.code).toBe('UNANSWERABLE')
    expect(err.details?.planner?.outcome).toBe('invalid_plan')
  })

  it("refuses a plan that reaches another tenant's tables", async () => {
    const err = await refusal(engine, 'wallet size of the other tenant')
    expect(err.details?.planner?.outcome).toBe('rejected')
  })

  it('refuses a plan that reads a field the principal may not see, and lets an admin have it', async () => {
    const err = await refusal(engine, 'wallet size by nation')
    expect(err.details?.planner?.outcome).toBe('rejected')
    const r = await engine.ask(admin, { question: 'wallet size by nation', asOf: saas.asOf })
    expect(r.planner).toBe('cohere')
    expect(r.rows.length).toBe(5)
  })

  it('binds values, so a value that looks like SQL is only a value', async () => {
    const r = await engine.ask(analyst, {
      question: 'wallet size with an injected value',
      asOf: saas.asOf,
    })
    expect(r.rows).toEqual([])
    expect(((await ds.knex.raw('SELECT COUNT(*) n FROM accounts')) as { n: number }[])[0]?.n).toBe(80)
  })

  it('refuses prose and an empty plan', async () => {
    expect((await refusal(engine, 'wallet size as prose')).details?.planner?.outcome).toBe('invalid_json')
    expect((await refusal(engine, 'wallet size nobody knows')).details?.planner?.outcome).toBe('no_plan')
  })

  it('refuses when Cohere times out', async () => {
    const slow = createEngine({ ds, model: engine.model, llm: planner({ timeoutMs: 300, maxRetries: 0 }) })
    const err = await refusal(slow, 'wallet size slowly')
    expect(err.details?.planner?.outcome).toBe('timeout')
  }, 30_000)

  it('retries a 429 and then refuses', async () => {
    const before = fake.requests.length
    const err = await refusal(engine, 'wallet size while throttled')
    expect(err.details?.planner?.outcome).toBe('rate_limited')
    expect(fake.requests.length - before).toBe(2)
  }, 30_000)

  it('keeps each tenant within HUB_LLM_MAX_CALLS_PER_MIN', async () => {
    const llm = coherePlannerFromEnv({
      COHERE_API_KEY: FAKE_COHERE_KEY,
      COHERE_BASE_URL: fake.url,
      HUB_LLM_MAX_CALLS_PER_MIN: '2',
      HUB_LLM_MAX_RETRIES: '1',
    })
    const capped = createEngine({ ds, model: engine.model, llm })
    await refusal(capped, 'wallet size as prose')
    await refusal(capped, 'wallet size nobody knows')
    const sent = fake.requests.length
    expect((await refusal(capped, 'wallet size with sql')).details?.planner?.outcome).toBe('budget')
    expect(fake.requests.length).toBe(sent)
    // another tenant has its own budget
    const other = localPrincipal('other', ['analyst'])
    expect((await refusal(capped, 'wallet size with sql', other)).details?.planner?.outcome).toBe(
      'invalid_plan',
    )
  })

  it('without COHERE_API_KEY refuses exactly as before, offline', async () => {
    expect(coherePlannerFromEnv({})).toBeUndefined()
    const sent = fake.requests.length
    const a = await refusal(plain, 'how big is our wallet size per vertical')
    expect(a.code).toBe('UNANSWERABLE')
    expect(a.details?.planner).toBeUndefined()
    expect(fake.requests.length).toBe(sent)
  })
})
