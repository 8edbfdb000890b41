import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FAKE_COHERE_KEY, type FakeCohere, startFakeCohere } from './emulators/cohere/server.ts'
import { createTestHub, type TestHub } from './helpers/hub.ts'

/**
 * Through the whole hub (HTTP, auth, cache, audit) with COHERE_API_KEY set: a question the parser
 * refuses is planned by the Cohere emulator, the answer says so, the data.ask audit record names
 * the planner and model, the repeat is served from the result cache, and a refused LLM plan leaves
 * the parser's refusal and a record saying why.
 */
describe('hub with the Cohere planner', () => {
  let fake: FakeCohere
  let hub: TestHub
  const saved = { ...process.env }

  beforeAll(async () => {
    fake = await startFakeCohere((q) =>
      q === 'wallet size per vertical'
        ? {
            plan: {
              dataset: 'prescriptions',
              measures: [{ field: 'prescriptions.trx', aggregation: 'sum', as: 'trx' }],
            },
          }
        : {
            plan: {
              dataset: 'payroll',
              measures: [{ field: 'payroll.salary', aggregation: 'sum', as: 's' }],
            },
          },
    )
    process.env.COHERE_API_KEY = FAKE_COHERE_KEY
    process.env.COHERE_BASE_URL = fake.url
    hub = await createTestHub({ env: { HUB_RATE_LIMIT: '100000' } })
  }, 120_000)

  afterAll(async () => {
    await hub?.close()
    await fake?.close()
    process.env = saved
  })

  const ask = (question: string) =>
    hub.call('/v1/ask', { method: 'POST', key: hub.keys.acme, json: { question, asOf: '2025-01-15' } })

  const askRecords = async () =>
    (await hub.services.metadata
      .knex('audit_events')
      .where({ tenant: 'acme', action: 'data.ask' })
      .orderBy('seq')) as {
      outcome: string
      detail: string | null
    }[]

  it('answers with the LLM plan, says so, audits it and caches it', async () => {
    const res = await ask('wallet size per vertical')
    expect(res.status).toBe(200)
    const body = (await res.json()) as { planner?: string; plannerModel?: string; rows: unknown[][] }
    expect(body.planner).toBe('cohere')
    expect(body.plannerModel).toBe('command-a-03-2025')
    expect(body.rows).toHaveLength(1)
    const again = await ask('wallet size per vertical')
    expect(((await again.json()) as { planner?: string }).planner).toBe('cohere')
    const records = await askRecords()
    const details = records.slice(-2).map((r) => JSON.parse(r.detail ?? '{}') as Record<string, unknown>)
    expect(details[0]).toMatchObject({ planner: 'cohere', plannerModel: 'command-a-03-2025' })
    expect(details[1]).toMatchObject({ planner: 'cohere', cached: true })
    expect(fake.requests).toHaveLength(1)
  })

  it('refuses a plan over a table the tenant does not have, as a client error with the reason audited', async () => {
    const res = await ask('payroll totals of everyone')
    expect(res.status).toBeGreaterThanOrEqual(400)
    expect(res.status).toBeLessThan(500)
    const problem = (await res.json()) as { code: string; planner?: { outcome: string } }
    expect(problem.planner?.outcome).toBe('rejected')
    const last = (await askRecords()).at(-1)
    expect(last?.outcome).toBe('denied')
    expect(JSON.parse(last?.detail ?? '{}')).toMatchObject({ planner: { outcome: 'rejected' } })
  })
})
