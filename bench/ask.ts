import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { serve } from '@hono/node-server'
import mysql from 'mysql2/promise'
import { createApiKey } from '../packages/core/src/auth/index.ts'
import { loadConfig } from '../packages/core/src/config/index.ts'
import { parseDataSourceUrl } from '../packages/core/src/db/index.ts'
import { createLogger } from '../packages/core/src/service/logger.ts'
import { createHubApp } from '../packages/core/src/service/server.ts'
import { fmt, pharmaOnMysql, pool, row } from './lib.ts'

const DEV = join(import.meta.dirname, '..', 'test', 'fixtures', 'eval', 'pharma-dev.jsonl')
const CONCURRENCY = 8
const REQUESTS = 300
const ROUNDS = 3

/**
 * /v1/ask over HTTP on loopback (auth, rate limit, plan, policy, compile, execute, audit) against
 * the raw mysql2 driver running the same SQL with the same bindings at the same concurrency, on
 * MariaDB at scale 1. The result cache is off so every request reaches the database.
 */
export async function run(): Promise<void> {
  const url = await pharmaOnMysql('nl2q_bench_s1', 1)
  const home = mkdtempSync(join(tmpdir(), 'nl2q-bench-ask-'))
  const config = loadConfig({
    HUB_HOME: home,
    HUB_DEMO: '0',
    HUB_RATE_LIMIT: '100000000',
    HUB_CACHE_TTL_MS: '0',
    HUB_LOG_LEVEL: 'silent',
    HUB_CONNECTORS: '',
  })
  const hub = await createHubApp(config, { logger: createLogger('silent'), noConnectors: true })
  const server = serve({ fetch: hub.app.fetch, port: 0, hostname: '127.0.0.1' })
  await new Promise((r) => server.once('listening', r))
  const address = server.address()
  const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`
  const conn = parseDataSourceUrl(url)
  const raw = mysql.createPool({
    ...(conn.dialect === 'mysql' ? conn.connection : {}),
    connectionLimit: CONCURRENCY,
    dateStrings: true,
    decimalNumbers: true,
  })
  try {
    await hub.services.tenants.add({ id: 'bench', dbUrl: url, model: 'pharma' })
    const key = (await createApiKey(hub.services.metadata, { tenant: 'bench', role: 'analyst' })).secret
    const rt = await hub.services.tenants.runtime('bench')
    const questions = readFileSync(DEV, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { question: string; asOf?: string; expect: string })
      .filter((q) => q.expect === 'answer')
    const principal = {
      tenant: 'bench',
      subject: 'bench',
      roles: ['analyst' as const],
      attributes: {},
      credential: { kind: 'local' as const, id: 'bench', expiresAt: null, scopes: [] },
    }
    const compiled = questions.map((q) =>
      rt.engine.compile(rt.engine.plan(q.question, { asOf: q.asOf, principal }).plan, principal),
    )

    const ask = (set: number[]) => async (i: number) => {
      const q = questions[set[i % set.length]!]!
      const res = await fetch(`${base}/v1/ask`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ question: q.question, ...(q.asOf ? { asOf: q.asOf } : {}) }),
      })
      if (res.status !== 200) throw new Error(`ask ${res.status}: ${await res.text()}`)
      await res.arrayBuffer()
    }
    const direct = (set: number[]) => async (i: number) => {
      const c = compiled[set[i % set.length]!]!
      await raw.query({ sql: c.sql, values: c.bindings as unknown[], rowsAsArray: true })
    }
    // Time each question once on the driver to split the set: the hub's own overhead only shows
    // next to queries the database answers quickly.
    const costs: number[] = []
    for (let i = 0; i < compiled.length; i++) {
      const t = performance.now()
      await direct([i])(0)
      costs.push(performance.now() - t)
    }
    const all = questions.map((_, i) => i)
    const light = all.filter((i) => (costs[i] ?? 0) < 20)
    row('requests × concurrency (best of rounds)', `${REQUESTS} × ${CONCURRENCY} (${ROUNDS})`)
    for (const [label, set] of [
      ['every dev question', all],
      [`light questions (${light.length}, < 20 ms on the driver)`, light],
    ] as const) {
      if (set.length === 0) continue
      // warm both paths (pools, statement caches, InnoDB buffer pool)
      await pool(set.length * 2, CONCURRENCY, direct(set))
      await pool(set.length * 2, CONCURRENCY, ask(set))
      // alternate the two in rounds so that drift in machine load hits both alike; keep each one's best
      let rawMs = Number.POSITIVE_INFINITY
      let askMs = Number.POSITIVE_INFINITY
      for (let r = 0; r < ROUNDS; r++) {
        rawMs = Math.min(rawMs, await pool(REQUESTS, CONCURRENCY, direct(set)))
        askMs = Math.min(askMs, await pool(REQUESTS, CONCURRENCY, ask(set)))
      }
      const rawRate = (REQUESTS / rawMs) * 1000
      const askRate = (REQUESTS / askMs) * 1000
      row(
        `/v1/ask, ${label}`,
        `${fmt(askRate, 0)} req/s`,
        `raw mysql2 ${fmt(rawRate, 0)} q/s`,
        askRate / rawRate,
      )
      row('  target ≥ 0.8×', askRate / rawRate >= 0.8 ? 'met' : 'NOT met')
    }
  } finally {
    await raw.end()
    server.close()
    await hub.close()
    rmSync(home, { recursive: true, force: true })
  }
}
