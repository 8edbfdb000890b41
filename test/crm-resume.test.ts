import { type ChildProcess, spawn } from 'node:child_process'
import { join } from 'node:path'
import type { Knex } from 'knex'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runSync } from '../packages/connectors/src/crm/runs.ts'
import { addCall, prng, seedFromPharma } from '../packages/connectors/src/crm/testing/emulator/seed.ts'
import type { SalesforceEmulator } from '../packages/connectors/src/crm/testing/emulator/server.ts'
import { openDataSource } from '../packages/core/src/db/knex.ts'
import { type CrmHarness, startCrmHarness } from './helpers/crm.ts'
import { orgCalls, targetCalls } from './helpers/crm-checksums.ts'

const CLI = join(import.meta.dirname, '../packages/core/src/cli/main.ts')
const NEW_CALLS = 12_000

/** The real `hub` CLI in a child process (stdout in `out`), to wait for or to kill mid-run. */
function hubCli(
  h: CrmHarness,
  args: string[],
): { child: ChildProcess; done: Promise<number | null>; out: () => string } {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
    env: { ...process.env, ...h.env },
    stdio: ['ignore', 'pipe', 'ignore'],
  })
  let out = ''
  child.stdout?.on('data', (d) => {
    out += d
  })
  const done = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  return { child, done, out: () => out }
}

async function until(check: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not reached in time')
    await new Promise((r) => setTimeout(r, 25))
  }
}

describe("crm sync into the demo tenant's own SQLite file: kill mid-run, resume, ask", () => {
  let h: CrmHarness
  let org: SalesforceEmulator
  let target: Knex
  let demoCalls: number
  const ask = async (question: string) => {
    const key = h.running.demoKeys.find((k) => k.tenant === 'globex')?.secret as string
    const res = await h.running.app.request('http://localhost/v1/ask', {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ question }),
    })
    return { status: res.status, body: (await res.json()) as { rows: unknown[][] } }
  }

  beforeAll(async () => {
    h = await startCrmHarness()
    org = await h.startOrg()
    const file = join(h.home, 'tenants', 'globex.sqlite')
    target = openDataSource(`sqlite:${file}`).knex
    const synthetic = await seedFromPharma(org.store, target)
    demoCalls = org.store.table('Call2_vod__c').size
    const rand = prng(11)
    for (let i = 0; i < NEW_CALLS; i += 1) addCall(org.store, synthetic, rand)
    await h.connect('globex', org, `sqlite:${file}`, { bulk_page_size: '2000' })
  }, 180_000)
  afterAll(async () => {
    await target?.destroy()
    await h?.close()
  })

  it('resumes a full sync killed mid-page from its last committed batch: counts and checksums equal the org', async () => {
    // Slow result pages so the kill lands mid-run, between pages.
    org.fault({ kind: 'slow', match: /\/jobs\/query\/\w+\/results$/, times: 10_000, delayMs: 150 })
    const results = () => org.requests.filter((r) => /\/results$/.test(r)).length
    const run = hubCli(h, ['crm', 'sync', '--tenant', 'globex', '--full'])
    // Territory2, User, Product, Account, ObjectTerritory2Association, then Call2 pages: kill inside Call2.
    await until(() => results() >= 14 || run.child.exitCode !== null, 240_000)
    run.child.kill('SIGKILL')
    await run.done
    const scope = await h.scope('globex')
    const saved = await scope.state.get<{ rows: number; locator: string }>('full:Call2_vod__c')
    expect(saved, run.out()).toBeDefined()
    expect(saved?.rows).toBeGreaterThan(0)
    expect(saved?.rows).toBeLessThan(demoCalls + NEW_CALLS)

    const before = results()
    const report = await runSync(scope, { full: true })
    expect(report.status, report.message).toBe('succeeded')
    expect(report.objects.Call2_vod__c?.resumed).toBe(true)
    // Only the pages after the last committed one were read again (plus the other objects' pages).
    expect(results() - before).toBeLessThan(Math.ceil((demoCalls + NEW_CALLS) / 2000) + 6)
    expect(await targetCalls(target)).toEqual(orgCalls(org.store))
    expect(await scope.state.get('full:Call2_vod__c')).toBeUndefined()
  }, 300_000)

  it('shows watermarks, last runs and API usage with hub crm status', async () => {
    const status = hubCli(h, ['crm', 'status', '--tenant', 'globex'])
    expect(await status.done, status.out()).toBe(0)
    const parsed = JSON.parse(status.out()) as {
      objects: Record<string, { watermark: { modstamp: string } | null }>
      lastRuns: { status: string }[]
      apiUsage: { used: number; limit: number } | null
    }
    expect(parsed.objects.Call2_vod__c?.watermark?.modstamp).toEqual(expect.any(String))
    expect(parsed.lastRuns.at(-1)?.status).toBe('succeeded')
    expect(parsed.apiUsage?.limit).toBe(15_000)
  }, 60_000)

  it('answers questions over the synced calls through /v1/ask', async () => {
    const { status, body } = await ask('how many calls')
    expect(status).toBe(200)
    expect(Number(body.rows[0]?.[0])).toBe(demoCalls + NEW_CALLS)
  }, 60_000)
})
