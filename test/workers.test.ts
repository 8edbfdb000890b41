import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApiKey } from '../packages/core/src/auth/index.ts'
import { loadConfig } from '../packages/core/src/config/index.ts'
import { openDataSource } from '../packages/core/src/db/index.ts'
import { openMetadataStore } from '../packages/core/src/metadata/store.ts'
import { secretBoxFor } from '../packages/core/src/secrets/index.ts'
import { createTenantRegistry } from '../packages/core/src/tenants/registry.ts'
import { DEMO_CACHE } from './global-setup.ts'
import { runHub } from './helpers/cli.ts'
import { TEST_REDIS_URL } from './helpers/redis.ts'
import { type Replica, startReplica } from './helpers/replica.ts'

/**
 * `hub start --workers 2`: one real primary and two real worker processes sharing one port, on
 * SQLite metadata. Without a shared store the primary holds the rate-limit budgets and relays
 * invalidations; with HUB_REDIS_URL Redis does. Either way a limit is exact across the workers
 * and an admin's refresh on whichever worker the request reached drops the cached answer on both.
 */
const LIMIT = 200
const QUESTION = 'How many HCPs are there?'

/** Run `total` tasks, at most `concurrency` at once (each its own keep-alive connection). */
async function bounded(total: number, concurrency: number, task: (i: number) => Promise<void>) {
  let next = 0
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) await task(next++)
    }),
  )
}

describe.each<{ store: string; env: Record<string, string> }>([
  { store: 'no shared store (the primary holds budgets, relays invalidations)', env: {} },
  { store: 'Redis', env: { HUB_REDIS_URL: TEST_REDIS_URL } },
])('hub start --workers 2 with $store', ({ env: storeEnv }) => {
  const home = mkdtempSync(join(tmpdir(), 'nl2q-workers-'))
  const tenantFile = join(home, 'tenants', 'acme.sqlite')
  let hub: Replica
  let admin = ''
  let tight = ''
  let env: Record<string, string> = {}

  const call = (path: string, key: string, json?: unknown) =>
    fetch(`${hub.url}${path}`, {
      method: json === undefined ? 'GET' : 'POST',
      headers: {
        authorization: `Bearer ${key}`,
        ...(json === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(json === undefined ? {} : { body: JSON.stringify(json) }),
    })

  /** The answers of `n` asks spread over 16 connections (so over both workers). */
  async function counts(n: number): Promise<number[]> {
    const out: number[] = []
    await bounded(n, 16, async () => {
      const res = await call('/v1/ask', admin, { question: QUESTION })
      const text = await res.text()
      expect(res.status, text).toBe(200)
      out.push(Number(Object.values((JSON.parse(text) as { rows: unknown[][] }).rows[0]!)[0]))
    })
    return out
  }

  /** Worker ids named in the access log lines since `from` (stderr offset). */
  function servedBy(from: number): Set<number> {
    const ids = new Set<number>()
    for (const line of hub.stderr().slice(from).split('\n')) {
      if (!line.includes('"msg":"request"')) continue
      const w = (JSON.parse(line) as { worker?: number }).worker
      if (w !== undefined) ids.add(w)
    }
    return ids
  }

  beforeAll(async () => {
    mkdirSync(join(home, 'tenants'))
    copyFileSync(join(DEMO_CACHE, 'acme.sqlite'), tenantFile)
    const metaUrl = `sqlite:${join(home, 'hub.sqlite')}`
    const store = openMetadataStore(metaUrl, home)
    try {
      await store.migrate()
      const tenants = createTenantRegistry({
        metadata: store,
        baseDir: home,
        secrets: secretBoxFor(loadConfig({ HUB_HOME: home })),
      })
      await tenants.add({ id: 'acme', dbUrl: `sqlite:${tenantFile}`, model: 'pharma' })
      await tenants.add({
        id: 'tight',
        dbUrl: `sqlite:${tenantFile}`,
        model: 'pharma',
        settings: { rateLimits: { default: LIMIT } },
      })
      await tenants.close()
      admin = (await createApiKey(store, { tenant: 'acme', role: 'admin' })).secret
      tight = (await createApiKey(store, { tenant: 'tight', role: 'viewer' })).secret
    } finally {
      await store.close()
    }
    env = {
      HUB_HOME: home,
      HUB_DATABASE_URL: metaUrl,
      HUB_DEMO: '0',
      HUB_LOG_LEVEL: 'info',
      HUB_RATE_LIMIT: '1000000',
      HUB_CACHE_TTL_MS: '600000',
      ...storeEnv,
    }
    hub = await startReplica(env, 120_000, { args: ['--workers', '2'] })
  }, 180_000)

  afterAll(async () => {
    await hub?.stop()
    rmSync(home, { recursive: true, force: true })
  })

  it('grants a credential exactly its limit across both workers, and both served', async () => {
    const from = hub.stderr().length
    const statuses: number[] = []
    await bounded(LIMIT * 2, 16, async () => {
      const res = await call('/v1/me', tight)
      await res.arrayBuffer()
      statuses.push(res.status)
    })
    expect(statuses.filter((s) => s === 200).length).toBe(LIMIT)
    expect(statuses.filter((s) => s === 429).length).toBe(LIMIT)
    expect(servedBy(from)).toEqual(new Set([1, 2]))
  }, 60_000)

  it('drops the cached answer on every worker when an admin refreshes on one of them', async () => {
    const from = hub.stderr().length
    const before = await counts(64)
    expect(new Set(before).size).toBe(1)
    expect(servedBy(from)).toEqual(new Set([1, 2]))
    const db = openDataSource(`sqlite:${tenantFile}`)
    try {
      await db.knex.raw(
        `INSERT INTO hcps SELECT 'ACM-H99999', '9999999999', first_name, last_name, specialty, city, state,
           territory_id, segment, '001ACM99999XXXXXXX' FROM hcps WHERE hcp_id = 'ACM-H00001'`,
      )
    } finally {
      await db.knex.destroy()
    }
    // both workers answer from their caches: the new row is not seen anywhere
    expect(new Set(await counts(64))).toEqual(new Set([before[0]]))
    const refreshed = await call('/v1/admin/refresh', admin, {})
    expect(refreshed.status, await refreshed.text()).toBe(200)
    // the other worker hears of it through the primary (or Redis), asynchronously: poll, bounded
    let after = new Set<number>()
    for (let i = 0; i < 40; i++) {
      after = new Set(await counts(32))
      if (after.size === 1 && after.has(before[0]! + 1)) break
      await new Promise((r) => setTimeout(r, 50))
    }
    expect(after).toEqual(new Set([before[0]! + 1]))
  }, 60_000)

  it('keeps one valid audit chain when both workers append to it', async () => {
    const n = 300
    await counts(n)
    const verify = await runHub(['audit', 'verify', '--tenant', 'acme', '--json'], env)
    expect(verify.code, verify.stdout + verify.stderr).toBe(0)
    const report = JSON.parse(verify.stdout) as { ok: boolean; count: number }
    expect(report.ok).toBe(true)
    // every ask of this suite is in the chain: 64 + 64 + (≥ 32 polls) + 300, plus the refresh
    expect(report.count).toBeGreaterThanOrEqual(64 + 64 + 32 + 1 + n)
  }, 60_000)

  it('refuses a --workers value that is not a whole number from 1 to 64', async () => {
    const bad = await runHub(['start', '--port', '0', '--workers', '0'], env)
    expect(bad.code).not.toBe(0)
    expect(bad.stderr + bad.stdout).toContain('--workers must be a whole number from 1 to 64')
  })
})
