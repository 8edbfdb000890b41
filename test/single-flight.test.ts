import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { localPrincipal } from '../packages/core/src/principal.ts'
import { createTestHub, type TestHub } from './helpers/hub.ts'

/** Identical reads that arrive together run the SQL once; every caller is still audited. */
let hub: TestHub
beforeAll(async () => {
  // No result cache: only single-flight may spare executions here.
  hub = await createTestHub({ env: { HUB_CACHE_TTL_MS: '0' } })
  await hub.services.tenants.runtime('acme')
})
afterAll(async () => {
  await hub?.close()
})

async function reads(source: string): Promise<number> {
  const metric = await hub.services.metrics.queryReads.get()
  return metric.values
    .filter((v) => v.labels.tenant === 'acme' && v.labels.source === source)
    .reduce((n, v) => n + v.value, 0)
}

const ctx = (i: number, signal?: AbortSignal) => ({
  requestId: `sf-${process.pid}-${Date.now()}-${i}`,
  clientIp: '127.0.0.1',
  channel: 'api',
  ...(signal ? { signal } : {}),
})

describe('single-flight', () => {
  it('executes 50 identical concurrent questions once, answers each the same and audits each', async () => {
    const analyst = localPrincipal('acme', ['analyst'])
    const executedBefore = await reads('database')
    const sharedBefore = await reads('shared')
    const contexts = Array.from({ length: 50 }, (_, i) => ctx(i))
    const answers = await Promise.all(
      contexts.map((c) =>
        hub.services.hub.ask(analyst, { question: 'Total TRx by product', asOf: '2025-01-15' }, c),
      ),
    )
    expect((await reads('database')) - executedBefore).toBe(1)
    expect((await reads('shared')) - sharedBefore).toBe(49)
    expect(answers[0]?.rows.length).toBeGreaterThan(1)
    for (const a of answers) expect(a.rows).toEqual(answers[0]?.rows)
    const events = await hub.services.metadata
      .knex('audit_events')
      .whereIn(
        'request_id',
        contexts.map((c) => c.requestId),
      )
      .select('request_id', 'outcome', 'row_count')
    expect(events).toHaveLength(50)
    expect(new Set(events.map((e) => e.request_id)).size).toBe(50)
    for (const e of events) expect(e).toMatchObject({ outcome: 'success', row_count: answers[0]?.rowCount })
  })

  it('does not share between principals whose row policy differs, nor across asOf dates', async () => {
    const executedBefore = await reads('database')
    const a = localPrincipal('acme', ['viewer'])
    const scoped = { ...a, attributes: { territories: ['ACM-T01'] } }
    await Promise.all([
      hub.services.hub.ask(a, { question: 'Total TRx', asOf: '2025-01-15' }, ctx(100)),
      hub.services.hub.ask(scoped, { question: 'Total TRx', asOf: '2025-01-15' }, ctx(101)),
      hub.services.hub.ask(scoped, { question: 'Total TRx', asOf: '2025-02-15' }, ctx(102)),
    ])
    expect((await reads('database')) - executedBefore).toBe(3)
  })

  it('keeps the shared read running for the others when one caller leaves', async () => {
    const analyst = localPrincipal('acme', ['analyst'])
    const leaving = new AbortController()
    const question = { question: 'Total TRx by territory', asOf: '2025-01-15' }
    const sharedBefore = await reads('shared')
    const first = hub.services.hub.ask(analyst, question, ctx(200, leaving.signal))
    const second = hub.services.hub.ask(analyst, question, ctx(201))
    // Both have joined the one read (it takes a worker round trip) before the first caller leaves.
    await new Promise((r) => setImmediate(r))
    leaving.abort()
    await expect(first).rejects.toMatchObject({ code: 'TIMEOUT' })
    expect((await second).rows.length).toBeGreaterThan(1)
    expect((await reads('shared')) - sharedBefore).toBe(1)
  })
})
