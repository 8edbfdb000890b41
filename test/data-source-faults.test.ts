import { createServer } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApiKey } from '../packages/core/src/auth/index.ts'
import { openDataSource } from '../packages/core/src/db/index.ts'
import { createPharmaSchema } from '../packages/core/src/sql-guard/testing/pharma-fixture.ts'
import { createTestHub, type TestHub } from './helpers/hub.ts'
import { createTestDatabase } from './helpers/mysql.ts'

/** A loopback port that nothing listens on (bound once, then closed). */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

const REQUEST_TIMEOUT_MS = 1500

let db: Awaited<ReturnType<typeof createTestDatabase>>
let hub: TestHub
const keys: Record<string, string> = {}

async function tenantWithKey(
  id: string,
  dbUrl: string,
  model: string | null = null,
  check = true,
): Promise<void> {
  // check: false registers a tenant whose data source is down now (it went down after `tenant add`).
  await hub.services.tenants.add({ id, dbUrl, model, check })
  keys[id] = (await createApiKey(hub.services.metadata, { tenant: id, role: 'admin' })).secret
}

async function auditOf(tenant: string, requestId: string | null) {
  return hub.services.metadata.knex('audit_events').where({ tenant, request_id: requestId }).first()
}

beforeAll(async () => {
  db = await createTestDatabase('nl2q_faults')
  const writer = openDataSource(db.url)
  try {
    await createPharmaSchema(writer.knex)
  } finally {
    await writer.knex.destroy()
  }
  hub = await createTestHub({
    env: {
      HUB_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
      HUB_QUERY_TIMEOUT_MS: '10000',
      HUB_CACHE_TTL_MS: '0',
    },
  })
  await tenantWithKey('pharmadb', db.url, 'pharma')
  await tenantWithKey('downdb', `mysql://root@127.0.0.1:${await closedPort()}/nothing`, null, false)
  await tenantWithKey('gonefile', `sqlite:${join(hub.home, 'tenants', 'no-such-file.sqlite')}`, null, false)
  // Open the MariaDB tenant (introspection, value index) before any test measures time.
  await hub.services.tenants.runtime('pharmadb')
})
afterAll(async () => {
  await hub?.close()
  await db?.drop()
})

describe('a data source that is down', () => {
  for (const tenant of ['downdb', 'gonefile'])
    it(`answers 503 DATA_SOURCE_UNAVAILABLE with Retry-After, not 500, for ${tenant}`, async () => {
      for (const [path, json] of [
        ['/v1/ask', { question: 'How many rows are there?' }],
        ['/v1/sql', { sql: 'SELECT 1 AS one' }],
      ] as const) {
        const res = await hub.call(path, { method: 'POST', key: keys[tenant], json })
        expect(res.status).toBe(503)
        expect(res.headers.get('retry-after')).toMatch(/^\d+$/)
        const body = (await res.json()) as { code: string; detail: string }
        expect(body.code).toBe('DATA_SOURCE_UNAVAILABLE')
        expect(body.detail).not.toMatch(/127\.0\.0\.1|no-such-file/)
        expect(await auditOf(tenant, res.headers.get('x-request-id'))).toMatchObject({ outcome: 'error' })
      }
    })
})

describe('a request that times out while its query waits', () => {
  it('records the read as timeout, never success, when the request deadline passes before a connection is free', async () => {
    const rt = await hub.services.tenants.runtime('pharmadb')
    // Every connection of the tenant pool (max 10) is busy.
    const held = await Promise.all(Array.from({ length: 10 }, () => rt.ds.knex.client.acquireConnection()))
    let res: Response
    const started = performance.now()
    try {
      res = await hub.call('/v1/sql', {
        method: 'POST',
        key: keys.pharmadb,
        json: { sql: 'SELECT COUNT(*) AS n FROM calls' },
      })
    } finally {
      for (const c of held) await rt.ds.knex.client.releaseConnection(c)
    }
    expect(res.status).toBe(504)
    expect(((await res.json()) as { code: string }).code).toBe('TIMEOUT')
    expect(performance.now() - started).toBeLessThan(REQUEST_TIMEOUT_MS + 1000)
    // Give a query that would still run once the connections are free the time to finish.
    await new Promise((r) => setTimeout(r, 500))
    const row = await auditOf('pharmadb', res.headers.get('x-request-id'))
    expect(row).toMatchObject({ action: 'data.sql', outcome: 'timeout', row_count: null })
  })

  it('kills the database query and audits timeout when the request deadline passes while it runs', async () => {
    // 60^5 rows to count: runs far longer than the request deadline.
    const sql = 'SELECT COUNT(*) AS n FROM calls a, calls b, calls c, calls d, calls e'
    const started = performance.now()
    const res = await hub.call('/v1/sql', { method: 'POST', key: keys.pharmadb, json: { sql } })
    expect(res.status).toBe(504)
    expect(performance.now() - started).toBeLessThan(REQUEST_TIMEOUT_MS + 1000)
    const running = async () => {
      const conn = openDataSource(db.url)
      try {
        const [list] = (await conn.knex.raw(
          "SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE COMMAND = 'Query' AND INFO LIKE '%calls%' AND INFO NOT LIKE '%PROCESSLIST%'",
        )) as [{ n: number }[]]
        return Number(list[0]?.n)
      } finally {
        await conn.knex.destroy()
      }
    }
    // KILL QUERY is asynchronous on the server: give it a moment, bounded.
    for (let i = 0; i < 20 && (await running()) > 0; i++) await new Promise((r) => setTimeout(r, 100))
    expect(await running()).toBe(0)
    const row = await auditOf('pharmadb', res.headers.get('x-request-id'))
    expect(row).toMatchObject({ action: 'data.sql', outcome: 'timeout', row_count: null })
  })
})
