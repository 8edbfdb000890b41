import type { Knex } from 'knex'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runSync } from '../packages/connectors/src/crm/runs.ts'
import {
  addCall,
  prng,
  type SyntheticOrg,
  seedSynthetic,
} from '../packages/connectors/src/crm/testing/emulator/seed.ts'
import type { SalesforceEmulator } from '../packages/connectors/src/crm/testing/emulator/server.ts'
import { type CrmHarness, emptyMysqlTarget, emptySqliteTarget, startCrmHarness } from './helpers/crm.ts'
import { orgAccounts, orgCalls, targetCalls, targetHcps } from './helpers/crm-checksums.ts'

const ACCOUNTS = Number(process.env.CRM_TEST_ACCOUNTS ?? 5000)
const CALLS = Number(process.env.CRM_TEST_CALLS ?? 50_000)

describe('crm sync into SQLite (jsforce against the Salesforce emulator)', () => {
  let h: CrmHarness
  let org: SalesforceEmulator
  let synthetic: SyntheticOrg
  let target: { url: string; knex: Knex }

  beforeAll(async () => {
    h = await startCrmHarness()
    org = await h.startOrg()
    synthetic = seedSynthetic(org.store, { prefix: 'SYN', accounts: ACCOUNTS, calls: CALLS })
    target = await emptySqliteTarget(h.home, 'acme-target')
    await h.connect('acme', org, target.url, { bulk_page_size: '5000' })
  }, 120_000)
  afterAll(async () => {
    await target?.knex.destroy()
    await h?.close()
  })

  it(`syncs ${CALLS} calls and ${ACCOUNTS} HCPs in full over Bulk API 2.0, equal to the org`, async () => {
    const report = await runSync(await h.scope('acme'), {})
    expect(report.status, report.message).toBe('succeeded')
    expect(report.errorCount).toBe(0)
    expect(report.objects.Call2_vod__c).toMatchObject({ mode: 'full', written: CALLS, failed: 0 })
    expect(await targetCalls(target.knex)).toEqual(orgCalls(org.store))
    expect(await targetHcps(target.knex)).toEqual(orgAccounts(org.store))
    // Locator paging: at least one results page per 5,000 calls.
    expect(org.requests.filter((r) => /\/jobs\/query\/\w+\/results$/.test(r)).length).toBeGreaterThanOrEqual(
      CALLS / 5000,
    )
  }, 300_000)

  it('then syncs edits, inserts and deletes incrementally through REST query and getDeleted', async () => {
    const rand = prng(7)
    const calls = [...org.store.table('Call2_vod__c').keys()]
    for (const id of calls.slice(0, 300))
      org.store.update('Call2_vod__c', id, { Status_vod__c: 'Cancelled', Duration_vod__c: 1 })
    for (const id of calls.slice(300, 400)) org.store.delete('Call2_vod__c', id)
    for (let i = 0; i < 50; i += 1) addCall(org.store, synthetic, rand)
    const account = synthetic.accounts[0] as string
    org.store.update('Account', account, { LastName: 'Renamed' })
    const before = org.requests.length
    const report = await runSync(await h.scope('acme'), {})
    expect(report.status, report.message).toBe('succeeded')
    expect(report.objects.Call2_vod__c).toMatchObject({ mode: 'incremental', deleted: 100 })
    expect(report.objects.Call2_vod__c?.written).toBeGreaterThanOrEqual(350)
    expect(await targetCalls(target.knex)).toEqual(orgCalls(org.store))
    expect(await targetHcps(target.knex)).toEqual(orgAccounts(org.store))
    const served = org.requests.slice(before)
    expect(served.some((r) => r.includes('/sobjects/Call2_vod__c/deleted'))).toBe(true)
    expect(served.some((r) => r.includes('/jobs/query'))).toBe(false)
  }, 120_000)
})

describe('crm sync into MariaDB', () => {
  let h: CrmHarness
  let org: SalesforceEmulator
  let synthetic: SyntheticOrg
  let target: Awaited<ReturnType<typeof emptyMysqlTarget>>

  beforeAll(async () => {
    h = await startCrmHarness()
    org = await h.startOrg()
    synthetic = seedSynthetic(org.store, { prefix: 'MDB', accounts: 1000, calls: 10_000, seed: 5 })
    target = await emptyMysqlTarget()
    await h.connect('globex', org, target.url, { bulk_page_size: '3000' })
  }, 120_000)
  afterAll(async () => {
    await target?.drop()
    await h?.close()
  })

  it('syncs in full, then incrementally with edits and deletes, equal to the org', async () => {
    const full = await runSync(await h.scope('globex'), {})
    expect(full.status, full.message).toBe('succeeded')
    expect(full.errorCount).toBe(0)
    expect(await targetCalls(target.knex)).toEqual(orgCalls(org.store))
    expect(await targetHcps(target.knex)).toEqual(orgAccounts(org.store))
    const rand = prng(9)
    const calls = [...org.store.table('Call2_vod__c').keys()]
    for (const id of calls.slice(0, 200))
      org.store.update('Call2_vod__c', id, { Call_Channel_vod__c: 'Phone' })
    for (const id of calls.slice(200, 260)) org.store.delete('Call2_vod__c', id)
    for (let i = 0; i < 40; i += 1) addCall(org.store, synthetic, rand)
    const inc = await runSync(await h.scope('globex'), {})
    expect(inc.status, inc.message).toBe('succeeded')
    expect(inc.objects.Call2_vod__c).toMatchObject({ mode: 'incremental', deleted: 60, written: 240 })
    expect(await targetCalls(target.knex)).toEqual(orgCalls(org.store))
  }, 300_000)
})
