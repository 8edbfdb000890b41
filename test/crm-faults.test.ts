import { join } from 'node:path'
import type { Knex } from 'knex'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import crmConnector from '../packages/connectors/src/crm/index.ts'
import { runPush, runSync } from '../packages/connectors/src/crm/runs.ts'
import {
  addCall,
  prng,
  type SyntheticOrg,
  seedFromPharma,
  seedSynthetic,
} from '../packages/connectors/src/crm/testing/emulator/seed.ts'
import type { SalesforceEmulator } from '../packages/connectors/src/crm/testing/emulator/server.ts'
import { createAuditLog } from '../packages/core/src/audit/index.ts'
import { setTenantSettings } from '../packages/core/src/connectors/config-section.ts'
import { openDataSource } from '../packages/core/src/db/knex.ts'
import { type CrmHarness, emptySqliteTarget, startCrmHarness } from './helpers/crm.ts'
import { orgCalls, targetCalls } from './helpers/crm-checksums.ts'

describe('crm sync: faults, API limits, auth flows and the error report', () => {
  let h: CrmHarness
  let org: SalesforceEmulator
  let synthetic: SyntheticOrg
  let target: { url: string; knex: Knex }
  const rand = prng(3)
  const settings = (values: Record<string, string>) =>
    setTenantSettings(h.running.services.metadata.knex, crmConnector, {}, 'acme', values)
  const sync = async (options = {}) => runSync(await h.scope('acme'), options)
  const equal = async () => expect(await targetCalls(target.knex)).toEqual(orgCalls(org.store))

  beforeAll(async () => {
    h = await startCrmHarness()
    org = await h.startOrg()
    synthetic = seedSynthetic(org.store, { prefix: 'FLT', accounts: 100, calls: 3000 })
    target = await emptySqliteTarget(h.home, 'faults')
    await h.connect('acme', org, target.url, { bulk_page_size: '500', request_timeout_ms: '3000' })
    const first = await sync()
    expect(first.status, first.message).toBe('succeeded')
    await equal()
  }, 120_000)
  afterAll(async () => {
    await target?.knex.destroy()
    await h?.close()
  })
  beforeEach(() => {
    org.usage.used = 0
    for (let i = 0; i < 20; i += 1) addCall(org.store, synthetic, rand)
  })

  it('retries a 500 with backoff and completes', async () => {
    org.fault({ kind: 'server-error', match: /GET \/services\/data\/v[\d.]+\/query$/, times: 2 })
    const r = await sync()
    expect(r.status, r.message).toBe('succeeded')
    expect(r.api?.retries).toBeGreaterThanOrEqual(2)
    await equal()
  })

  it('retries REQUEST_LIMIT_EXCEEDED', async () => {
    org.fault({ kind: 'limit-exceeded', match: /\/query$/, times: 1 })
    const r = await sync()
    expect(r.status, r.message).toBe('succeeded')
    expect(r.api?.retries).toBeGreaterThanOrEqual(1)
    await equal()
  })

  it('re-reads a page whose connection was reset mid-body (full sync over Bulk 2.0)', async () => {
    org.fault({ kind: 'reset', match: /\/jobs\/query\/\w+\/results$/, times: 2 })
    const r = await sync({ full: true, objects: ['Call2_vod__c'] })
    expect(r.status, r.message).toBe('succeeded')
    expect(r.api?.retries).toBeGreaterThanOrEqual(2)
    await equal()
  })

  it('waits out a slow response', async () => {
    org.fault({ kind: 'slow', match: /\/query$/, times: 1, delayMs: 1500 })
    const r = await sync()
    expect(r.status, r.message).toBe('succeeded')
    await equal()
  })

  it('refreshes an expired session once and replays the request', async () => {
    org.fault({ kind: 'expired-session', match: /\/query$/, times: 1 })
    const r = await sync()
    expect(r.status, r.message).toBe('succeeded')
    expect(r.api?.refreshes).toBe(1)
    await equal()
  })

  it('refreshes only once per request: a second 401 fails the run', async () => {
    org.fault({ kind: 'expired-session', match: /\/query$/, times: 2 })
    const r = await sync()
    expect(r.status).toBe('failed')
    expect(r.message).toMatch(/refreshed session/)
    expect(r.api?.refreshes).toBe(1)
    // The next run picks up where the watermarks stand.
    const again = await sync()
    expect(again.status, again.message).toBe('succeeded')
    await equal()
  })

  it('spaces calls out above 80% of the daily API allowance', async () => {
    org.usage.used = Math.ceil(org.usage.limit * 0.85)
    const r = await sync()
    expect(r.status, r.message).toBe('succeeded')
    expect(r.api?.throttled).toBeGreaterThan(0)
    await equal()
  })

  it('stops above 95% (resumable), and the next run catches up', async () => {
    org.usage.used = Math.ceil(org.usage.limit * 0.96)
    const r = await sync()
    expect(r.status).toBe('stopped')
    expect(r.message).toMatch(/above 95%/)
    org.usage.used = 0
    const again = await sync()
    expect(again.status, again.message).toBe('succeeded')
    await equal()
  })

  it('reports a permanently failing record and syncs the rest', async () => {
    const orphan = org.store.insert('Account', {
      IsPersonAccount: true,
      Name: 'No External Id',
      LastName: 'X',
    })
    const call = addCall(org.store, synthetic, rand)
    org.store.update('Call2_vod__c', call.Id as string, { Account_vod__c: orphan.Id as string })
    const r = await sync()
    expect(r.status, r.message).toBe('succeeded')
    expect(r.errors.map((e) => e.id)).toEqual(expect.arrayContaining([orphan.Id, call.Id]))
    expect(r.objects.Call2_vod__c?.written).toBeGreaterThanOrEqual(20)
    const status = await import('../packages/connectors/src/crm/runs.ts').then(async (m) =>
      m.crmStatus(await h.scope('acme')),
    )
    expect(status.lastRuns.at(-1)?.errors).toBe(r.errorCount)
    expect(status.apiUsage).toBeDefined()
    // The problem row is the only difference from the org.
    org.store.delete('Call2_vod__c', call.Id as string)
    org.store.delete('Account', orphan.Id as string)
    expect((await sync()).status).toBe('succeeded')
    await equal()
  })

  it('authenticates with client credentials too, and audits each run', async () => {
    await settings({ auth: 'client_credentials' })
    const r = await sync()
    await settings({ auth: 'private_key' })
    expect(r.status, r.message).toBe('succeeded')
    await equal()
    const events = (await createAuditLog(h.running.services.metadata).list('acme', { limit: 50 })).items
    expect(events.filter((e) => e.action === 'crm.sync').length).toBeGreaterThan(5)
  })

  it('writes nothing on a dry run', async () => {
    const before = await targetCalls(target.knex)
    const r = await sync({ dryRun: true })
    expect(r.status, r.message).toBe('succeeded')
    expect(r.objects.Call2_vod__c?.written).toBeGreaterThanOrEqual(20)
    expect(await targetCalls(target.knex)).toEqual(before)
  })
})

describe('crm push: insights through the audited engine, changed values only', () => {
  let h: CrmHarness
  let org: SalesforceEmulator
  beforeAll(async () => {
    h = await startCrmHarness()
    org = await h.startOrg()
    const demo = openDataSource(`sqlite:${join(h.home, 'tenants', 'globex.sqlite')}`, { readOnly: true })
    await seedFromPharma(org.store, demo.knex)
    await demo.knex.destroy()
    await h.connect('globex', org, `sqlite:${join(h.home, 'tenants', 'globex.sqlite')}`, {
      push_bulk_threshold: '100000',
    })
  }, 120_000)
  afterAll(async () => h?.close())

  it('prints the diff on a dry run and writes nothing', async () => {
    const r = await runPush(await h.scope('globex'), { dryRun: true })
    expect(r.status, r.message).toBe('succeeded')
    expect(r.changes?.length).toBeGreaterThan(100)
    expect(r.changes?.[0]?.fields).toMatchObject({ Prescribing_Trend__c: expect.any(String) })
    expect([...org.store.table('Account').values()].every((a) => a.NL2Q_Insights__c === null)).toBe(true)
  })

  it('writes Account fields through sObject Collections (200 a call), then a second push writes nothing', async () => {
    const r = await runPush(await h.scope('globex'), {})
    expect(r.status, r.message).toBe('succeeded')
    const n = r.objects.Account?.written ?? 0
    expect(n).toBeGreaterThan(100)
    expect(org.requests.filter((q) => q.endsWith('/composite/sobjects')).length).toBe(Math.ceil(n / 200))
    const pushed = [...org.store.table('Account').values()].filter((a) => a.NL2Q_Insights__c !== null)
    expect(pushed.length).toBe(n)
    expect(pushed[0]?.Recommended_Message__c).toEqual(expect.any(String))
    const before = org.requests.length
    const again = await runPush(await h.scope('globex'), {})
    expect(again.objects.Account?.written).toBe(0)
    expect(
      org.requests.slice(before).some((q) => q.includes('/composite/') || q.includes('/jobs/ingest')),
    ).toBe(false)
  })

  it('pushes through a Bulk 2.0 ingest job above the threshold, and reports per-record failures', async () => {
    const scope = await h.scope('globex')
    // Forget what was pushed, and delete one Account in the org: its update must fail, the rest land.
    for (const row of await scope.state.table('pushed').list({ limit: 10_000 }))
      await scope.state.table('pushed').delete(row.id)
    const gone = [...org.store.table('Account').values()].find((a) => a.NL2Q_Insights__c !== null)
      ?.Id as string
    org.store.delete('Account', gone)
    await setTenantSettings(h.running.services.metadata.knex, crmConnector, {}, 'globex', {
      push_bulk_threshold: '10',
    })
    const r = await runPush(await h.scope('globex'), {})
    expect(r.status, r.message).toBe('succeeded')
    expect(org.requests.some((q) => q.startsWith('POST') && q.endsWith('/jobs/ingest'))).toBe(true)
    expect(r.errors.map((e) => e.id)).toEqual([gone])
    expect(r.objects.Account?.written).toBeGreaterThan(100)
  })
})
