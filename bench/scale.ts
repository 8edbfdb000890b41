import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import autocannon from 'autocannon'
import knexFactory from 'knex'
import { createApiKey } from '../packages/core/src/auth/index.ts'
import { loadConfig } from '../packages/core/src/config/index.ts'
import { openMetadataStore } from '../packages/core/src/metadata/store.ts'
import { secretBoxFor } from '../packages/core/src/secrets/index.ts'
import { createTenantRegistry } from '../packages/core/src/tenants/registry.ts'
import { type Replica, startReplica } from '../test/helpers/replica.ts'
import { BENCH_MYSQL, cpuMs, fmt, pharmaOnMysql, pidsNamed, row } from './lib.ts'

const REDIS = process.env.NL2Q_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379'
const CONNECTIONS = 64
const DURATION_SEC = 8
const ROUNDS = 3
const LIMIT = 2000
const QUESTION = 'How many HCPs are in the Northeast region?'

/** CPU µs per answered request of the replicas and of this process (the load generator), last run. */
let lastCpu = { hubUs: Number.NaN, genUs: Number.NaN, dbUs: Number.NaN }
/** MariaDB and Redis on this machine (their CPU per request counts against the same cores). */
const services = pidsNamed('mariadbd', 'mysqld', 'redis-server')

/**
 * Requests per second of cached /v1/ask against `targets`, the connections split between them.
 * 64 connections: closed-loop clients must outnumber what one audit batch holds, else the figure
 * is the commit latency, not what the replicas can serve.
 */
async function askRate(targets: Replica[], key: string): Promise<number> {
  const cpu0 = targets.map((t) => cpuMs(t.child.pid))
  const db0 = services.map((p) => cpuMs(p))
  const gen0 = process.cpuUsage()
  const results = await Promise.all(
    targets.map((t) =>
      autocannon({
        url: `${t.url}/v1/ask`,
        method: 'POST',
        connections: CONNECTIONS / targets.length,
        duration: DURATION_SEC,
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ question: QUESTION }),
      }),
    ),
  )
  for (const r of results)
    if (r.non2xx > 0 || r.errors > 0) throw new Error(`${r.non2xx} non-2xx, ${r.errors} errors`)
  const answered = results.reduce((sum, r) => sum + r['2xx'], 0)
  const hubMs = targets.reduce((sum, t, i) => sum + cpuMs(t.child.pid) - (cpu0[i] ?? 0), 0)
  const gen = process.cpuUsage(gen0)
  const dbMs = services.reduce((sum, p, i) => sum + cpuMs(p) - (db0[i] ?? 0), 0)
  lastCpu = {
    hubUs: (hubMs * 1000) / Math.max(1, answered),
    genUs: (gen.user + gen.system) / Math.max(1, answered),
    dbUs: (dbMs * 1000) / Math.max(1, answered),
  }
  return results.reduce((sum, r) => sum + r['2xx'] / r.duration, 0)
}

/** Send 2 × LIMIT requests of one credential split over both replicas at full speed; count the 200s. */
async function granted(targets: Replica[], key: string): Promise<{ ok: number; limited: number }> {
  const results = await Promise.all(
    targets.map((t) =>
      autocannon({
        url: `${t.url}/v1/me`,
        connections: CONNECTIONS / targets.length,
        amount: (2 * LIMIT) / targets.length,
        headers: { authorization: `Bearer ${key}` },
      }),
    ),
  )
  const code = (r: autocannon.Result, c: string) =>
    (r.statusCodeStats as Record<string, { count?: number }> | undefined)?.[c]?.count ?? 0
  return {
    ok: results.reduce((s, r) => s + code(r, '200'), 0),
    limited: results.reduce((s, r) => s + code(r, '429'), 0),
  }
}

/**
 * Two `hub start` processes sharing MariaDB (metadata, audit) and Redis (rate limits) against one:
 * cached /v1/ask throughput (the load generator splits its connections over the targets), and
 * how exactly one credential's limit holds when both replicas are hammered at once.
 */
export async function run(): Promise<void> {
  const tenantUrl = await pharmaOnMysql('nl2q_bench_s1', 1)
  const metaName = 'nl2q_bench_scale'
  const admin = knexFactory({ client: 'mysql2', connection: `${BENCH_MYSQL}/` })
  await admin.raw(`DROP DATABASE IF EXISTS \`${metaName}\``)
  await admin.raw(`CREATE DATABASE \`${metaName}\``)
  await admin.destroy()
  const home = mkdtempSync(join(tmpdir(), 'nl2q-bench-scale-'))
  const metaUrl = `${BENCH_MYSQL}/${metaName}`
  const store = openMetadataStore(metaUrl, home)
  const replicas: Replica[] = []
  try {
    await store.migrate()
    const tenants = createTenantRegistry({
      metadata: store,
      baseDir: home,
      // the replicas share HUB_HOME, so they unseal with the key this creates there
      secrets: secretBoxFor(loadConfig({ HUB_HOME: home })),
    })
    await tenants.add({ id: 'bench', dbUrl: tenantUrl, model: 'pharma' })
    await tenants.add({
      id: 'limited',
      dbUrl: tenantUrl,
      model: 'pharma',
      settings: { rateLimits: { default: LIMIT } },
    })
    const key = (await createApiKey(store, { tenant: 'bench', role: 'analyst' })).secret
    const env = {
      HUB_HOME: home,
      HUB_DATABASE_URL: metaUrl,
      HUB_REDIS_URL: REDIS,
      HUB_DEMO: '0',
      HUB_LOG_LEVEL: 'error',
      HUB_RATE_LIMIT: '100000000',
      HUB_CACHE_TTL_MS: '600000',
    }
    replicas.push(...(await Promise.all([startReplica(env), startReplica(env)])))
    const one = [replicas[0]!]
    // warm both: tenant runtime, cache entry, pools, JIT
    await askRate(replicas, key)
    let single = 0
    let double = 0
    let cpuOne = lastCpu
    let cpuTwo = lastCpu
    for (let r = 0; r < ROUNDS; r++) {
      const s = await askRate(one, key)
      if (s > single) [single, cpuOne] = [s, lastCpu]
      const d = await askRate(replicas, key)
      if (d > double) [double, cpuTwo] = [d, lastCpu]
    }
    row('connections × seconds (best of rounds)', `${CONNECTIONS} × ${DURATION_SEC} s (${ROUNDS})`)
    row(
      'cached /v1/ask, 2 replicas',
      `${fmt(double, 0)} req/s`,
      `1 replica ${fmt(single, 0)} req/s`,
      double / single,
    )
    row('  target ≥ 1.6×', double / single >= 1.6 ? 'met' : 'NOT met')
    // why it is or is not met on a small machine: CPU per request of the hubs and of autocannon
    const cpu = (c: typeof lastCpu) => `${fmt(c.hubUs, 0)} / ${fmt(c.dbUs, 0)} / ${fmt(c.genUs, 0)}`
    row('  CPU µs/request hubs / MariaDB+Redis / autocannon', `2: ${cpu(cpuTwo)}`, `1: ${cpu(cpuOne)}`)

    const limitedKey = (await createApiKey(store, { tenant: 'limited', role: 'viewer' })).secret
    const { ok, limited } = await granted(replicas, limitedKey)
    row(`one credential, limit ${LIMIT}/min, ${2 * LIMIT} requests`, `${ok} granted`, `${LIMIT}`, ok / LIMIT)
    row('  rest answered 429', `${limited}`)
    row('  target within 1 %', Math.abs(ok - LIMIT) <= LIMIT * 0.01 ? 'met' : 'NOT met')
  } finally {
    await Promise.all(replicas.map((r) => r.stop()))
    await store.close()
    rmSync(home, { recursive: true, force: true })
  }
}
