import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAuditLog } from '../packages/core/src/audit/index.ts'
import {
  authenticate,
  clientIpMiddleware,
  createApiKey,
  createAuthenticator,
} from '../packages/core/src/auth/index.ts'
import { type HubConfig, loadConfig } from '../packages/core/src/config/index.ts'
import { type MetadataStore, openMetadataStore } from '../packages/core/src/metadata/store.ts'
import { createMetrics } from '../packages/core/src/metrics/registry.ts'
import { createRateLimiter, type RateLimiterOptions } from '../packages/core/src/rate-limit/index.ts'
import { openRedis } from '../packages/core/src/redis/index.ts'

type Redis = Awaited<ReturnType<typeof openRedis>>

import { problemHandler } from '../packages/core/src/service/errors.ts'
import { createRouter } from '../packages/core/src/service/openapi.ts'
import { createTestDatabase } from './helpers/mysql.ts'
import { TEST_REDIS_URL, UNREACHABLE_REDIS_URL } from './helpers/redis.ts'

const QUOTA = 5
const PROXY = '10.0.0.2'

async function sqlite() {
  const home = mkdtempSync(join(tmpdir(), 'nl2q-rl-'))
  return { url: `sqlite:${join(home, 'hub.sqlite')}`, home, drop: async () => {} }
}
async function mariadb() {
  const db = await createTestDatabase('nl2q_rl')
  return { url: db.url, home: mkdtempSync(join(tmpdir(), 'nl2q-rl-')), drop: () => db.drop() }
}

async function redis() {
  return { ...(await sqlite()), redis: await openRedis({ url: TEST_REDIS_URL }) }
}

function buildApp(config: HubConfig, store: MetadataStore, extra: Partial<RateLimiterOptions> = {}) {
  const tenants = {
    exists: async (id: string) => (await store.knex('tenants').where({ id }).first('id')) !== undefined,
  }
  const limiter = createRateLimiter({ config, metadata: store, settingsTtlMs: 0, ...extra })
  const app = createRouter()
  app.onError(problemHandler)
  app.use('*', clientIpMiddleware({ trustedProxies: config.trustedProxies }))
  app.use(
    '/v1/*',
    authenticate({
      authenticator: createAuthenticator({ config, metadata: store, tenants }),
      audit: createAuditLog(store),
      limiter,
    }),
    limiter.middleware(),
  )
  app.get('/v1/ping', (c) => c.json({ ok: true }))
  return { app, limiter }
}

describe.each([
  ['sqlite', sqlite],
  ['mariadb', mariadb],
  ['redis', redis],
] as const)('rate limits on %s', (name, backend) => {
  let env: Awaited<ReturnType<typeof sqlite>> & { redis?: Redis }
  let store: MetadataStore
  let config: HubConfig
  let app: ReturnType<typeof buildApp>['app']

  const get = (headers: Record<string, string>, peer = '198.51.100.20') =>
    app.request('/v1/ping', { headers }, { incoming: { socket: { remoteAddress: peer } } })
  const bearer = (key: string) => ({ Authorization: `Bearer ${key}` })

  beforeAll(async () => {
    env = await backend()
    config = loadConfig({
      HUB_HOME: env.home,
      HUB_DATABASE_URL: env.url,
      HUB_DEMO: 'false',
      HUB_RATE_LIMIT: String(QUOTA),
      HUB_RATE_LIMIT_WINDOW: '60',
      HUB_TRUSTED_PROXIES: `${PROXY},192.168.0.0/16`,
    })
    store = openMetadataStore(config.databaseUrl)
    await store.migrate()
    const created_at = new Date().toISOString()
    await store.knex('tenants').insert([
      { id: 'acme', db_url: 'sqlite:a.sqlite', created_at, settings: '{}' },
      {
        id: 'roomy',
        db_url: 'sqlite:r.sqlite',
        created_at,
        settings: JSON.stringify({ rateLimits: { analyst: 8 } }),
      },
    ])
    // a fresh key namespace per run: Redis outlives the test, the budgets must not
    app = buildApp(config, store, { redis: env.redis, redisPrefix: `nl2q-test:${randomUUID()}` }).app
  })
  afterAll(async () => {
    await env?.redis?.quit()
    await store?.close()
    await env?.drop()
    rmSync(env.home, { recursive: true, force: true })
  })

  it(`lets exactly q of q+10 requests through and answers the rest 429 with Retry-After`, async () => {
    const key = await createApiKey(store, { tenant: 'acme', role: 'analyst' })
    const statuses: number[] = []
    let last: Response | undefined
    for (let i = 0; i < QUOTA + 10; i++) {
      last = await get(bearer(key.secret))
      statuses.push(last.status)
      if (i === 0) {
        expect(last.headers.get('ratelimit-policy')).toBe(`"default";q=${QUOTA};w=60`)
        expect(last.headers.get('ratelimit')).toMatch(new RegExp(`^"default";r=${QUOTA - 1};t=\\d+$`))
      }
    }
    expect(statuses.filter((s) => s === 200)).toHaveLength(QUOTA)
    expect(statuses.slice(QUOTA).every((s) => s === 429)).toBe(true)
    expect(Number(last!.headers.get('retry-after'))).toBeGreaterThan(0)
    expect(last!.headers.get('ratelimit')).toMatch(/^"default";r=0;t=\d+$/)
    expect(((await last!.json()) as { code: string }).code).toBe('RATE_LIMITED')
  })

  it('leaves another credential’s budget untouched', async () => {
    const a = await createApiKey(store, { tenant: 'acme', role: 'viewer' })
    const b = await createApiKey(store, { tenant: 'acme', role: 'viewer' })
    for (let i = 0; i < QUOTA; i++) await get(bearer(a.secret))
    expect((await get(bearer(a.secret))).status).toBe(429)
    expect((await get(bearer(b.secret))).status).toBe(200)
  })

  it('applies a tenant’s per-role limit from its settings', async () => {
    const key = await createApiKey(store, { tenant: 'roomy', role: 'analyst' })
    const statuses: number[] = []
    for (let i = 0; i < 12; i++) statuses.push((await get(bearer(key.secret))).status)
    expect(statuses.filter((s) => s === 200)).toHaveLength(8)
  })

  it('limits credential-less requests per IP and ignores X-Forwarded-For from an untrusted peer', async () => {
    const peer = '203.0.113.50'
    const statuses: number[] = []
    for (let i = 0; i < config.rateLimit.anonymousPoints + 5; i++) {
      // a new spoofed client address every time: must not buy a fresh budget
      const res = await get({ 'X-Forwarded-For': `198.18.0.${i}` }, peer)
      statuses.push(res.status)
    }
    expect(statuses.filter((s) => s === 401)).toHaveLength(config.rateLimit.anonymousPoints)
    expect(statuses.slice(config.rateLimit.anonymousPoints).every((s) => s === 429)).toBe(true)
    const rows = await store.knex('audit_events').where({ tenant: '_hub', client_ip: peer })
    expect(rows).toHaveLength(config.rateLimit.anonymousPoints + 5)
  })

  it('counts failed credentials against the IP budget too', async () => {
    const peer = '203.0.113.51'
    for (let i = 0; i < config.rateLimit.anonymousPoints; i++) {
      expect((await get(bearer(`nl2q_0000000000000000_${'A'.repeat(43)}`), peer)).status).toBe(401)
    }
    expect((await get(bearer('garbage'), peer)).status).toBe(429)
  })

  it('honours X-Forwarded-For from a trusted proxy, one budget per real client', async () => {
    const statuses = async (client: string) => {
      const out: number[] = []
      for (let i = 0; i < config.rateLimit.anonymousPoints + 1; i++) {
        out.push((await get({ 'X-Forwarded-For': `${client}, 192.168.1.9` }, PROXY)).status)
      }
      return out
    }
    expect((await statuses('198.51.100.61')).at(-1)).toBe(429)
    expect((await statuses('198.51.100.62')).filter((s) => s === 401)).toHaveLength(
      config.rateLimit.anonymousPoints,
    )
  })

  it.runIf(name === 'mariadb')('shares one budget between two replicas on the same database', async () => {
    const other = openMetadataStore(config.databaseUrl)
    try {
      const replicaA = createRateLimiter({ config, metadata: store })
      const replicaB = createRateLimiter({ config, metadata: other })
      const key = await createApiKey(store, { tenant: 'acme', role: 'viewer' })
      const principal = {
        tenant: 'acme',
        subject: `apikey:${key.id}`,
        roles: ['viewer' as const],
        attributes: {},
        credential: { kind: 'api_key' as const, id: key.id, expiresAt: null, scopes: [] },
      }
      const results = await Promise.allSettled(
        Array.from({ length: QUOTA * 2 }, (_, i) =>
          (i % 2 ? replicaA : replicaB).consumePrincipal(principal),
        ),
      )
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(QUOTA)
      const rejected = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[]
      expect(rejected.every((r) => (r.reason as { code: string }).code === 'RATE_LIMITED')).toBe(true)
      // the budget lives in the shared table, not in either process
      expect(
        await store.knex('nl2q_rate_limits').where('key', 'like', `cred:acme:api_key:${key.id}`),
      ).toHaveLength(1)
    } finally {
      await other.close()
    }
  })
})

describe('rate limits when Redis is down', () => {
  // A real client pointed at a port where no Redis listens: every command fails at once.
  const home = mkdtempSync(join(tmpdir(), 'nl2q-rl-down-'))
  let store: MetadataStore
  let down: Redis
  let app: ReturnType<typeof buildApp>['app']
  const { registry } = createMetrics({ defaultMetrics: false })
  afterAll(async () => {
    down?.disconnect()
    await store?.close()
    rmSync(home, { recursive: true, force: true })
  })
  beforeAll(async () => {
    const config = loadConfig({
      HUB_HOME: home,
      HUB_DEMO: 'false',
      HUB_RATE_LIMIT: String(QUOTA),
      HUB_RATE_LIMIT_WINDOW: '60',
    })
    store = openMetadataStore(config.databaseUrl)
    await store.migrate()
    await store
      .knex('tenants')
      .insert({ id: 'acme', db_url: 'sqlite:a.sqlite', created_at: new Date().toISOString(), settings: '{}' })
    down = await openRedis({ url: UNREACHABLE_REDIS_URL, connectWaitMs: 200 })
    app = buildApp(config, store, { redis: down, registry }).app
  })
  const get = (headers: Record<string, string>) =>
    app.request('/v1/ping', { headers }, { incoming: { socket: { remoteAddress: '198.51.100.90' } } })

  it('falls back to a per-replica limit for a credential and counts every fallback decision', async () => {
    const key = await createApiKey(store, { tenant: 'acme', role: 'viewer' })
    const statuses: number[] = []
    for (let i = 0; i < QUOTA + 3; i++)
      statuses.push((await get({ Authorization: `Bearer ${key.secret}` })).status)
    expect(statuses).toEqual([...Array(QUOTA).fill(200), 429, 429, 429])
    const metric = await registry.getSingleMetric('nl2q_rate_limit_store_failures_total')?.get()
    expect(metric?.values).toContainEqual(
      expect.objectContaining({ labels: { policy: 'default', outcome: 'fallback' }, value: QUOTA + 3 }),
    )
  })

  it('fails closed (503) for anonymous traffic instead of granting each replica its own IP budget', async () => {
    const res = await get({})
    expect(res.status).toBe(503)
    expect(((await res.json()) as { code: string }).code).toBe('SERVICE_UNAVAILABLE')
    const metric = await registry.getSingleMetric('nl2q_rate_limit_store_failures_total')?.get()
    expect(metric?.values).toContainEqual(
      expect.objectContaining({ labels: { policy: 'anonymous', outcome: 'refused' }, value: 1 }),
    )
  })
})
