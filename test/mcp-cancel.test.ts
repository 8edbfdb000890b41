import { execFile } from 'node:child_process'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { connectHttp, type DemoHub, REVISIONS, serveOnLoopback, startDemoHub } from '@nl2q/mcp-server/testing'
import knexFactory, { type Knex } from 'knex'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestDatabase } from './helpers/mysql.ts'

/**
 * Cancellation stops the running query. On MariaDB (SQLite cannot be interrupted mid-step), a slow
 * guarded SELECT is started over MCP and the client gives up: a 2026-07-28 client by closing the
 * request's stream, a 2025-11-25 client by sending notifications/cancelled on a new POST (stateless:
 * another server instance receives it). Either way the statement must leave the server's process list.
 */
const ROOT = resolve(import.meta.dirname, '..')
const TSX = join(ROOT, 'node_modules/.bin/tsx')
const CLI = join(ROOT, 'packages/core/src/cli/main.ts')
const run = promisify(execFile)
const SLOW = 'SELECT COUNT(*) AS n FROM prescriptions a CROSS JOIN prescriptions b CROSS JOIN prescriptions c'

let db: Awaited<ReturnType<typeof createTestDatabase>>
let hub: DemoHub
let server: { url: string; close(): Promise<void> }
let key: string
let mysql: Knex

beforeAll(async () => {
  db = await createTestDatabase('nl2q_mcp')
  hub = await startDemoHub()
  const env = { ...process.env, HUB_HOME: hub.home, HUB_LOG_LEVEL: 'silent' }
  await run(TSX, [CLI, 'demo', 'seed', '--db', db.url, '--prefix', 'MDB', '--scale', '0.05'], { env })
  await hub.running.services.tenants.add({ id: 'mdb', dbUrl: db.url, model: null })
  const created = await run(TSX, [CLI, 'key', 'create', '--tenant', 'mdb', '--role', 'admin', '--json'], {
    env,
  })
  key = (JSON.parse(created.stdout) as { secret: string }).secret
  server = await serveOnLoopback(hub.running.app)
  const url = new URL(db.url)
  mysql = knexFactory({
    client: 'mysql2',
    connection: {
      host: url.hostname,
      port: Number(url.port || 3306),
      user: decodeURIComponent(url.username || 'root'),
      password: decodeURIComponent(url.password),
    },
  })
})

afterAll(async () => {
  await mysql?.destroy()
  await server?.close()
  await hub?.close()
  await db?.drop()
})

async function running(): Promise<number> {
  const [rows] = (await mysql.raw(
    "SELECT ID FROM information_schema.PROCESSLIST WHERE DB = ? AND INFO LIKE '%CROSS JOIN%' AND INFO NOT LIKE '%PROCESSLIST%'",
    [db.name],
  )) as [unknown[]]
  return rows.length
}

async function untilGone(ms: number): Promise<number> {
  const started = performance.now()
  for (let i = 0; i < 50 && performance.now() - started < ms; i++) {
    if ((await running()) === 0) return performance.now() - started
    await new Promise((r) => setTimeout(r, 100))
  }
  return Number.POSITIVE_INFINITY
}

describe.each(REVISIONS)('cancelling an MCP call, protocol %s', (revision) => {
  it('stops the running query on the database', async () => {
    const client = await connectHttp(server.url, key, revision)
    try {
      const abort = new AbortController()
      const call = client.callTool({ name: 'run_sql', arguments: { sql: SLOW } }, { signal: abort.signal })
      call.catch(() => undefined)
      for (let i = 0; i < 40 && (await running()) === 0; i++) await new Promise((r) => setTimeout(r, 50))
      expect(await running()).toBe(1)
      abort.abort()
      await expect(call).rejects.toThrow()
      expect(await untilGone(3000)).toBeLessThan(3000)
    } finally {
      await client.close()
    }
  })
})

describe('audit of a cancelled call', () => {
  it('records the SQL read as not successful', async () => {
    const res = await hub.running.app.request('/v1/audit?action=data.sql&limit=20', {
      headers: { authorization: `Bearer ${key}` },
    })
    const { items } = (await res.json()) as { items: { outcome: string; channel: string }[] }
    expect(items.filter((e) => e.channel === 'mcp' && e.outcome !== 'success').length).toBeGreaterThanOrEqual(
      2,
    )
  })
})
