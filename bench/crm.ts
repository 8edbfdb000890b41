/**
 * CRM sync (issue 13): a full sync of the default Veeva mapping (55,067 records: 50,000 calls,
 * 5,000 HCPs, territories, reps, products) from the Salesforce emulator over Bulk API 2.0 into
 * MariaDB, against a raw batched insert of the same rows into the same schema (goal ≥ 0.5×); then
 * an incremental sync of 1,000 changes (600 edits, 300 inserts, 100 deletes) end to end (goal < 5 s).
 */
import { runSync } from '../packages/connectors/src/crm/runs.ts'
import { addCall, prng, seedSynthetic } from '../packages/connectors/src/crm/testing/emulator/seed.ts'
import { emptyMysqlTarget, startCrmHarness } from '../test/helpers/crm.ts'
import { fmt, row } from './lib.ts'

const TABLES = ['territories', 'reps', 'products', 'hcps', 'calls'] as const
const BATCH = 1000

export async function run(): Promise<void> {
  const h = await startCrmHarness({ HUB_CRM_POLL_MS: '50' })
  const org = await h.startOrg()
  const synthetic = seedSynthetic(org.store, { prefix: 'BEN', accounts: 5000, calls: 50_000 })
  const target = await emptyMysqlTarget()
  const raw = await emptyMysqlTarget()
  try {
    await h.connect('acme', org, target.url)
    let t = performance.now()
    const report = await runSync(await h.scope('acme'), {})
    const syncMs = performance.now() - t
    if (report.status !== 'succeeded') throw new Error(`sync ${report.status}: ${report.message}`)
    const records = Object.values(report.objects).reduce((n, o) => n + o.written, 0)

    // Baseline: the same rows, read back, inserted in 1,000-row transactions by the raw driver.
    const rows = Object.fromEntries(
      await Promise.all(TABLES.map(async (tb) => [tb, await target.knex(tb).select()])),
    )
    t = performance.now()
    for (const tb of TABLES) {
      const all = rows[tb] as Record<string, unknown>[]
      for (let i = 0; i < all.length; i += BATCH)
        await raw.knex.transaction((trx) => trx(tb).insert(all.slice(i, i + BATCH)))
    }
    const rawMs = performance.now() - t
    row(
      `full sync, ${fmt(records, 0)} records (Bulk 2.0 → MariaDB)`,
      `${fmt(records / (syncMs / 1000), 0)} rec/s`,
      `raw batched insert ${fmt(records / (rawMs / 1000), 0)} rec/s`,
      rawMs / syncMs,
    )

    const rand = prng(42)
    const calls = [...org.store.table('Call2_vod__c').keys()]
    for (const id of calls.slice(0, 600)) org.store.update('Call2_vod__c', id, { Status_vod__c: 'Completed' })
    for (let i = 0; i < 300; i += 1) addCall(org.store, synthetic, rand)
    for (const id of calls.slice(600, 700)) org.store.delete('Call2_vod__c', id)
    t = performance.now()
    const inc = await runSync(await h.scope('acme'), {})
    const incMs = performance.now() - t
    if (inc.status !== 'succeeded') throw new Error(`incremental ${inc.status}: ${inc.message}`)
    const c = inc.objects.Call2_vod__c
    row(
      `incremental, 1,000 changes (${c?.written} upserted, ${c?.deleted} deleted)`,
      `${fmt(incMs / 1000, 2)} s`,
      'goal 5 s',
      5000 / incMs,
    )
  } finally {
    await target.drop()
    await raw.drop()
    await h.close()
  }
}
