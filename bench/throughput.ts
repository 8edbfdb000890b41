import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import autocannon from 'autocannon'
import mysql from 'mysql2/promise'
import { createApiKey } from '../packages/core/src/auth/index.ts'
import { loadConfig } from '../packages/core/src/config/index.ts'
import { openMetadataStore } from '../packages/core/src/metadata/store.ts'
import { secretBoxFor } from '../packages/core/src/secrets/index.ts'
import { createTenantRegistry } from '../packages/core/src/tenants/registry.ts'
import { type Replica, startReplica } from '../test/helpers/replica.ts'
import { cpuMs, fmt, pharmaOnMysql, row } from './lib.ts'

const ROOT = join(import.meta.dirname, '..')
const DEV = join(ROOT, 'test', 'fixtures', 'eval', 'pharma-dev.jsonl')
/** Database connections of the raw server = the hub's per-tenant query slots. */
const POOL = 8
const DURATION_SEC = Number(process.env.NL2Q_BENCH_SECONDS ?? 8)
const WORKERS = Number(process.env.NL2Q_BENCH_WORKERS ?? 1)

interface Load {
  rate: number
  p975: number
  errors: number
  /** CPU time of the server (and its workers) per answered request, µs (Linux /proc). */
  cpuUs: number
  /** CPU time of this process (autocannon, the load generator) per answered request, µs. */
  genUs: number
}

/** Closed-loop load over `bodies` (cycled per connection) for DURATION_SEC. */
async function load(
  url: string,
  connections: number,
  bodies: string[],
  headers = {},
  pid?: number,
): Promise<Load> {
  const cpu0 = cpuMs(pid)
  const gen0 = process.cpuUsage()
  const r = await autocannon({
    url,
    method: 'POST',
    connections,
    duration: DURATION_SEC,
    headers: { 'content-type': 'application/json', ...headers },
    requests: bodies.map((body) => ({ method: 'POST', body })),
  })
  const cpu = cpuMs(pid) - cpu0
  const gen = process.cpuUsage(gen0)
  return {
    rate: r['2xx'] / r.duration,
    p975: r.latency.p97_5,
    errors: r.errors + r.non2xx + r.timeouts,
    cpuUs: (cpu * 1000) / Math.max(1, r['2xx']),
    genUs: (gen.user + gen.system) / Math.max(1, r['2xx']),
  }
}

/** A child process that prints `listening on http://…`; resolves with its URL. */
function child(args: string[], env: Record<string, string>): Promise<{ url: string; proc: ChildProcess }> {
  const proc = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  let out = ''
  return new Promise((resolve, reject) => {
    proc.stdout?.on('data', (d) => {
      out += d
      const m = /listening on (http:\/\/\S+)/.exec(out)
      if (m) resolve({ url: m[1] as string, proc })
    })
    proc.once('exit', (code) => reject(new Error(`exited ${code}`)))
  })
}

/**
 * Issue 19's goals on MariaDB scale 1, the hub (`hub start`, its own process) against a bare
 * node:http + mysql2 server (bench/raw-server.ts, its own process) running the SQL the hub compiles
 * for the same questions on the same number of connections:
 * - light questions uncached at 32 connections (target ≥ 0.8× the raw server);
 * - the same questions cached at 500 connections (target ≥ 10× the raw server's uncached rate,
 *   p97.5 < 100 ms, 0 errors).
 * NL2Q_BENCH_WORKERS=N starts the hub with `--workers N`; NL2Q_BENCH_PROFILE=dir writes CPU
 * profiles of the hub (node --cpu-prof) there.
 */
export async function run(): Promise<void> {
  const dbUrl = await pharmaOnMysql('nl2q_bench_s1', 1)
  const home = mkdtempSync(join(tmpdir(), 'nl2q-bench-tp-'))
  const metaUrl = `sqlite:${join(home, 'hub.sqlite')}`
  const store = openMetadataStore(metaUrl, home)
  const procs: { stop(): Promise<void> }[] = []
  try {
    await store.migrate()
    const tenants = createTenantRegistry({
      metadata: store,
      baseDir: home,
      secrets: secretBoxFor(loadConfig({ HUB_HOME: home })),
    })
    await tenants.add({ id: 'bench', dbUrl, model: 'pharma' })
    const key = (await createApiKey(store, { tenant: 'bench', role: 'analyst' })).secret
    const rt = await tenants.runtime('bench')
    const questions = readFileSync(DEV, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { question: string; asOf?: string; expect: string })
      .filter((q) => q.expect === 'answer' && !q.asOf)
    const raw = mysql.createPool({ uri: dbUrl, connectionLimit: 1, dateStrings: true, decimalNumbers: true })
    const compiled: Record<string, { sql: string; bindings: unknown[] }> = {}
    const light: string[] = []
    for (const q of questions) {
      const planned = rt.engine.plan(q.question)
      const c = rt.engine.compile(
        { ...planned.plan, limit: planned.plan.limit ?? 10_001 },
        {
          tenant: 'bench',
          subject: 'bench',
          roles: ['analyst'],
          attributes: {},
          credential: { kind: 'local', id: 'bench', expiresAt: null, scopes: [] },
        },
      )
      compiled[q.question] = { sql: c.sql, bindings: [...c.bindings] }
      await raw.query({ sql: c.sql, values: c.bindings as unknown[] })
      const t = performance.now()
      await raw.query({ sql: c.sql, values: c.bindings as unknown[] })
      if (performance.now() - t < 20) light.push(q.question)
    }
    await raw.end()
    await tenants.close()
    await store.close()
    const queryFile = join(home, 'queries.json')
    writeFileSync(queryFile, JSON.stringify(compiled))
    const bodies = light.map((question) => JSON.stringify({ question }))

    const rawServer = await child(['--import', 'tsx', 'bench/raw-server.ts'], {
      NL2Q_RAW_DB: dbUrl,
      NL2Q_RAW_QUERIES: queryFile,
      NL2Q_RAW_POOL: String(POOL),
    })
    procs.push({
      async stop() {
        rawServer.proc.kill('SIGTERM')
        await new Promise((r) => rawServer.proc.once('exit', r))
      },
    })
    const profile = process.env.NL2Q_BENCH_PROFILE
    const hubEnv = (cacheMs: number) => ({
      HUB_HOME: home,
      HUB_DATABASE_URL: metaUrl,
      HUB_DEMO: '0',
      HUB_LOG_LEVEL: 'info',
      HUB_RATE_LIMIT: '100000000',
      HUB_CACHE_TTL_MS: String(cacheMs),
      HUB_TENANT_MAX_QUERIES: String(POOL),
      HUB_TENANT_MAX_QUEUED: '1000',
      HUB_MAX_CONNECTIONS: '2000',
    })
    const hubArgs = {
      nodeArgs: profile ? ['--cpu-prof', `--cpu-prof-dir=${profile}`] : [],
      args: WORKERS > 1 ? ['--workers', String(WORKERS)] : [],
    }
    const auth = { authorization: `Bearer ${key}` }

    row('light questions (< 20 ms on the driver)', `${light.length}`)
    row('seconds per run, hub workers', `${DURATION_SEC} s, ${WORKERS}`)
    // warm the raw server, then measure it at 32 connections: the baseline of both goals
    await load(rawServer.url, 32, bodies)
    const base = await load(rawServer.url, 32, bodies, {}, rawServer.proc.pid)

    const uncached: Replica = await startReplica(hubEnv(0), 60_000, hubArgs)
    procs.push(uncached)
    await load(`${uncached.url}/v1/ask`, 32, bodies, auth)
    const u = await load(`${uncached.url}/v1/ask`, 32, bodies, auth, uncached.child.pid)
    await uncached.stop()
    row(
      'uncached /v1/ask, 32 connections',
      `${fmt(u.rate, 0)} req/s`,
      `raw server ${fmt(base.rate, 0)} req/s`,
      u.rate / base.rate,
    )
    row('  p97.5 hub / raw, errors', `${u.p975} / ${base.p975} ms, ${u.errors}`)
    row('  server CPU per request', `${fmt(u.cpuUs, 0)} µs`, `raw server ${fmt(base.cpuUs, 0)} µs`)
    row('  target ≥ 0.8×', u.rate / base.rate >= 0.8 && u.errors === 0 ? 'met' : 'NOT met')

    const cached: Replica = await startReplica(hubEnv(600_000), 60_000, hubArgs)
    procs.push(cached)
    const warm = await load(`${cached.url}/v1/ask`, 500, bodies, auth)
    const c = await load(`${cached.url}/v1/ask`, 500, bodies, auth, cached.child.pid)
    // for reading a CPU profile (NL2Q_BENCH_PROFILE) per request
    if (profile) row('  requests the cached hub served', fmt((warm.rate + c.rate) * DURATION_SEC, 0))
    await cached.stop()
    row(
      'cached /v1/ask, 500 connections',
      `${fmt(c.rate, 0)} req/s`,
      `raw server uncached ${fmt(base.rate, 0)} req/s`,
      c.rate / base.rate,
    )
    row('  p97.5, errors', `${c.p975} ms, ${c.errors}`)
    row('  CPU per cached request: hub', `${fmt(c.cpuUs, 0)} µs`, `load generator ${fmt(c.genUs, 0)} µs`)
    row(
      '  target ≥ 10×, p97.5 < 100 ms, 0 errors',
      c.rate / base.rate >= 10 && c.p975 < 100 && c.errors === 0 ? 'met' : 'NOT met',
    )
  } finally {
    for (const p of procs) await p.stop()
    rmSync(home, { recursive: true, force: true })
  }
}
