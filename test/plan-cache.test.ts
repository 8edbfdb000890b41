import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { localPrincipal } from '../packages/core/src/principal.ts'
import { createTestHub, type TestHub } from './helpers/hub.ts'

/**
 * The plan cache behind /v1/ask: a repeated question (same tenant, model version, normalised
 * question, asOf day and policy inputs) is not parsed again; anything else is; a refresh drops it.
 */
let hub: TestHub
beforeAll(async () => {
  hub = await createTestHub({ env: { HUB_CACHE_TTL_MS: '600000' } })
})
afterAll(async () => {
  await hub?.close()
})

let n = 0
const ctx = () => ({ requestId: `pc-${process.pid}-${n++}`, clientIp: '127.0.0.1', channel: 'api' })
const analyst = localPrincipal('acme', ['analyst'])
const ask = (question: string, asOf = '2025-01-15', who = analyst) =>
  hub.services.hub.ask(who, { question, asOf }, ctx())

async function lookups(outcome: 'hit' | 'miss'): Promise<number> {
  const metric = await hub.services.metrics.planCacheLookups.get()
  return metric.values.filter((v) => v.labels.outcome === outcome).reduce((s, v) => s + v.value, 0)
}

describe('plan cache', () => {
  it('parses a question once and answers repeats, whitespace variants included, from the cache', async () => {
    const [hits, misses] = [await lookups('hit'), await lookups('miss')]
    const first = await ask('Total TRx by product')
    const again = await ask('  Total   TRx by\tproduct ')
    expect(await lookups('miss')).toBe(misses + 1)
    expect(await lookups('hit')).toBe(hits + 1)
    expect(again.plan).toEqual(first.plan)
    expect(again.rows).toEqual(first.rows)
    // the answer names the question as asked, not the cached spelling
    expect(again.question).toBe('  Total   TRx by\tproduct ')
    // the audit record of a hit still carries the plan hash
    const rows = await hub.services.metadata
      .knex('audit_events')
      .where({ tenant: 'acme', action: 'data.ask' })
      .orderBy('seq', 'desc')
      .limit(2)
      .select('plan_hash')
    expect(rows[0]?.plan_hash).toBeTruthy()
    expect(rows[0]?.plan_hash).toBe(rows[1]?.plan_hash)
  })

  it('keys on the asOf day, the policy inputs and the words of the question', async () => {
    await ask('Total NRx by product')
    const misses = await lookups('miss')
    await ask('Total NRx by product', '2025-02-15')
    const scoped = { ...localPrincipal('acme', ['viewer']), attributes: { territories: ['ACM-T01'] } }
    await ask('Total NRx by product', '2025-01-15', scoped)
    await ask('Total NRx by specialty')
    expect(await lookups('miss')).toBe(misses + 3)
  })

  it('refuses again without caching the refusal', async () => {
    const misses = await lookups('miss')
    await expect(ask('What is the weather on Mars?')).rejects.toMatchObject({ status: 422 })
    await expect(ask('What is the weather on Mars?')).rejects.toMatchObject({ status: 422 })
    expect(await lookups('miss')).toBe(misses + 2)
  })

  it('drops the tenant plans on refresh and when the runtime (model) is rebuilt', async () => {
    await ask('How many HCPs are there?')
    const misses = await lookups('miss')
    await ask('How many HCPs are there?')
    expect(await lookups('miss')).toBe(misses)
    hub.services.hub.invalidateCache('acme')
    await ask('How many HCPs are there?')
    expect(await lookups('miss')).toBe(misses + 1)
    // a tenant change (what a peer's pub/sub message runs too) rebuilds the runtime and drops plans
    await hub.services.tenants.invalidate('acme')
    await ask('How many HCPs are there?')
    expect(await lookups('miss')).toBe(misses + 2)
  })

  it('shares one frozen answer between repeated cached asks, so its JSON is built once', async () => {
    await ask('Total TRx by product') // (the previous test dropped the cached rows)
    const a = await ask('Total TRx by product')
    const b = await ask('Total TRx by product')
    expect(b).toBe(a)
    expect(Object.isFrozen(a)).toBe(true)
    expect(Object.isFrozen(a.plan)).toBe(true)
    // cached answers are per policy: a viewer's does not show the SQL
    const viewer = await ask('Total TRx by product', '2025-01-15', localPrincipal('acme', ['viewer']))
    expect(a.sql).toBeTruthy()
    expect(viewer.sql).toBeUndefined()
  })
})
