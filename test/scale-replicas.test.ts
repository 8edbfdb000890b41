import { randomUUID } from 'node:crypto'
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApiKey } from '../packages/core/src/auth/index.ts'
import { loadConfig } from '../packages/core/src/config/index.ts'
import { openDataSource } from '../packages/core/src/db/index.ts'
import { type MetadataStore, openMetadataStore } from '../packages/core/src/metadata/store.ts'
import { secretBoxFor } from '../packages/core/src/secrets/index.ts'
import { createTenantRegistry } from '../packages/core/src/tenants/registry.ts'
import { DEMO_CACHE } from './global-setup.ts'
import { runHub } from './helpers/cli.ts'
import { createTestDatabase } from './helpers/mysql.ts'
import { TEST_REDIS_URL } from './helpers/redis.ts'
import { type Replica, startReplica } from './helpers/replica.ts'

/**
 * Two real `hub start` processes on one MariaDB metadata database and one Redis, as two replicas
 * behind a load balancer: the client alternates between them.
 */
const LIMIT = 300
const QUESTION = 'How many HCPs are there?'

let db: Awaited<ReturnType<typeof createTestDatabase>>
let store: MetadataStore
const home = mkdtempSync(join(tmpdir(), 'nl2q-scale-'))
const tenantFile = join(home, 'tenants', 'acme.sqlite')
let env: Record<string, string>
let replicas: Replica[] = []
let admin: string
let tight: string

async function call(
  replica: Replica,
  path: string,
  key: string,
  init: { json?: unknown; requestId?: string } = {},
): Promise<Response> {
  return fetch(`${replica.url}${path}`, {
    method: init.json === undefined ? 'GET' : 'POST',
    headers: {
      authorization: `Bearer ${key}`,
      ...(init.json === undefined ? {} : { 'content-type': 'application/json' }),
      ...(init.requestId ? { 'x-request-id': init.requestId } : {}),
    },
    ...(init.json === undefined ? {} : { body: JSON.stringify(init.json) }),
  })
}

async function count(replica: Replica): Promise<number> {
  const res = await call(replica, '/v1/ask', admin, { json: { question: QUESTION } })
  expect(res.status, await res.clone().text()).toBe(200)
  const body = (await res.json()) as { rows: Record<string, number>[] }
  return Number(Object.values(body.rows[0]!)[0])
}

/** A new row in the tenant database behind the hubs' backs (a copy of an existing HCP). */
async function addHcp(id: string, npi: string, crm: string): Promise<void> {
  const ds = openDataSource(`sqlite:${tenantFile}`)
  try {
    await ds.knex.raw(
      `INSERT INTO hcps SELECT ?, ?, first_name, last_name, specialty, city, state, territory_id,
         segment, ? FROM hcps WHERE hcp_id = 'ACM-H00001'`,
      [id, npi, crm],
    )
  } finally {
    await ds.knex.destroy()
  }
}

/** Run `total` tasks, at most `concurrency` at once. */
async function bounded(total: number, concurrency: number, task: (i: number) => Promise<void>) {
  let next = 0
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) await task(next++)
    }),
  )
}

beforeAll(async () => {
  db = await createTestDatabase('nl2q_scale')
  mkdirSync(join(home, 'tenants'))
  copyFileSync(join(DEMO_CACHE, 'acme.sqlite'), tenantFile)
  store = openMetadataStore(db.url, home)
  await store.migrate()
  const tenants = createTenantRegistry({
    metadata: store,
    baseDir: home,
    // the replicas share HUB_HOME, so they unseal with the key this creates there
    secrets: secretBoxFor(loadConfig({ HUB_HOME: home })),
  })
  await tenants.add({ id: 'acme', dbUrl: `sqlite:${tenantFile}`, model: 'pharma' })
  await tenants.add({
    id: 'tight',
    dbUrl: `sqlite:${tenantFile}`,
    model: 'pharma',
    settings: { rateLimits: { default: LIMIT } },
  })
  admin = (await createApiKey(store, { tenant: 'acme', role: 'admin' })).secret
  tight = (await createApiKey(store, { tenant: 'tight', role: 'viewer' })).secret
  env = {
    HUB_HOME: home,
    HUB_DATABASE_URL: db.url,
    HUB_REDIS_URL: TEST_REDIS_URL,
    HUB_DEMO: '0',
    HUB_RATE_LIMIT: '1000000',
    HUB_CACHE_TTL_MS: '600000',
  }
  replicas = await Promise.all([startReplica(env), startReplica(env)])
}, 120_000)

afterAll(async () => {
  await Promise.all(replicas.map((r) => r.stop()))
  await store?.close()
  await db?.drop()
  rmSync(home, { recursive: true, force: true })
})

describe('two hub replicas sharing MariaDB and Redis', () => {
  it('grants a credential exactly its limit per window across both replicas when requests alternate', async () => {
    const statuses: number[] = []
    await bounded(LIMIT * 2, 8, async (i) => {
      const res = await call(replicas[i % 2]!, '/v1/me', tight)
      await res.arrayBuffer()
      statuses.push(res.status)
    })
    const granted = statuses.filter((s) => s === 200).length
    expect(Math.abs(granted - LIMIT)).toBeLessThanOrEqual(LIMIT * 0.01)
    expect(statuses.filter((s) => s !== 200 && s !== 429)).toEqual([])
  })

  it('drops the cached answer on replica B when an admin refreshes on replica A', async () => {
    const [a, b] = replicas as [Replica, Replica]
    const before = await count(b)
    await addHcp('ACM-H99999', '9999999999', '001ACM99999XXXXXXX')
    // B still answers from its cache: the new row is not seen
    expect(await count(b)).toBe(before)
    const refreshed = await call(a, '/v1/admin/refresh', admin, { json: {} })
    expect(refreshed.status).toBe(200)
    // the invalidation reaches B through Redis pub/sub (asynchronously, so poll briefly)
    let after = before
    for (let i = 0; i < 40 && after === before; i++) {
      await new Promise((r) => setTimeout(r, 50))
      after = await count(b)
    }
    expect(after).toBe(before + 1)
  })

  it('drops the cached answer on both replicas when an operator changes the tenant from the CLI', async () => {
    const [a, b] = replicas as [Replica, Replica]
    const before = [await count(a), await count(b)]
    expect(before[0]).toBe(before[1])
    await addHcp('ACM-H99998', '9999999998', '001ACM99998XXXXXXX')
    expect([await count(a), await count(b)]).toEqual(before)
    const cli = await runHub(['tenant', 'set-model', 'acme', 'pharma'], env)
    expect(cli.code, cli.stderr).toBe(0)
    // with HUB_REDIS_URL the CLI notified the replicas: it must not send the operator to refresh
    expect(cli.stdout).toContain('notified')
    expect(cli.stdout).not.toContain('/v1/admin/refresh')
    let after = before
    for (let i = 0; i < 40 && after.some((n) => n === before[0]); i++) {
      await new Promise((r) => setTimeout(r, 50))
      after = [await count(a), await count(b)]
    }
    expect(after).toEqual([before[0]! + 1, before[0]! + 1])
  })

  it('keeps one valid audit chain with the exact count when 5,000 requests are split between them', async () => {
    const head = async () =>
      Number(
        ((await store.knex('audit_heads').where({ tenant: 'acme' }).first('seq')) as { seq: number }).seq,
      )
    const start = await head()
    const total = 5000
    let ok = 0
    await bounded(total, 16, async (i) => {
      const res = await call(replicas[i % 2]!, '/v1/ask', admin, { json: { question: QUESTION } })
      await res.arrayBuffer()
      if (res.status === 200) ok++
    })
    expect(ok).toBe(total)
    expect((await head()) - start).toBe(total)
    const verify = await runHub(['audit', 'verify', '--tenant', 'acme', '--json'], env)
    expect(verify.code, verify.stdout + verify.stderr).toBe(0)
    expect(JSON.parse(verify.stdout)).toMatchObject({ ok: true, count: await head() })
    // 5,000 audited requests through two real processes: minutes on a loaded 2-core machine
  }, 600_000)

  it('loses no acknowledged record and keeps the chain valid when one replica is killed -9 mid-load', async () => {
    const acknowledged: string[] = []
    const victim = replicas[1]!
    let sent = 0
    await bounded(1200, 16, async (i) => {
      if (i === 400) victim.child.kill('SIGKILL')
      const requestId = `scale-${randomUUID()}`
      sent++
      try {
        const res = await call(replicas[i % 2]!, '/v1/ask', admin, {
          json: { question: QUESTION },
          requestId,
        })
        await res.arrayBuffer()
        if (res.status === 200) acknowledged.push(requestId)
      } catch {
        // connection refused or reset by the killed replica: not acknowledged
      }
    })
    expect(await victim.exited).toBeNull()
    expect(sent).toBe(1200)
    // the survivor answered all of its share; the victim some of its share before dying
    expect(acknowledged.length).toBeGreaterThanOrEqual(600)
    const recorded = new Set(
      (
        (await store
          .knex('audit_events')
          .where({ tenant: 'acme' })
          .whereIn('request_id', acknowledged)
          .select('request_id')) as { request_id: string }[]
      ).map((r) => r.request_id),
    )
    expect(acknowledged.filter((id) => !recorded.has(id))).toEqual([])
    const verify = await runHub(['audit', 'verify', '--json'], env)
    expect(verify.code, verify.stdout + verify.stderr).toBe(0)
    expect(JSON.parse(verify.stdout)).toMatchObject({ ok: true })
  }, 120_000)
})
