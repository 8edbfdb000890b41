import { createServer } from 'node:net'
import { createPowerBiConnector } from '@nl2q/powerbi-connector'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApiKey } from '../packages/core/src/auth/index.ts'
import { openDataSource } from '../packages/core/src/db/index.ts'
import { seedPharma } from '../packages/core/src/demo/index.ts'
import { createTestHub, type TestHub } from './helpers/hub.ts'
import { createPgSelectOnlyRole, createTestPgDatabase } from './helpers/postgres.ts'

/**
 * A hub with a PostgreSQL tenant end to end: the pharma demo seeded into PostgreSQL (scale 0.05),
 * registered with a SELECT-only role, asked through /v1/ask and /v1/sql and read through the OData
 * feed, with a territory-scoped key beside the admin key.
 */
let db: Awaited<ReturnType<typeof createTestPgDatabase>>
let role: Awaited<ReturnType<typeof createPgSelectOnlyRole>>
let hub: TestHub
let admin: string
let regional: string
let down: string

async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

beforeAll(async () => {
  db = await createTestPgDatabase('nl2q_svc')
  const writer = openDataSource(db.url)
  try {
    await seedPharma(writer, { prefix: 'ACM', seed: 7, scale: 0.05 })
  } finally {
    await writer.knex.destroy()
  }
  role = await createPgSelectOnlyRole(db.url)
  hub = await createTestHub({
    demo: false,
    connectors: [createPowerBiConnector({ pageSize: 5000 })],
    env: { HUB_CACHE_TTL_MS: '0', HUB_RATE_LIMIT: '100000' },
  })
  await hub.services.tenants.add({ id: 'pgacme', dbUrl: role.url, model: 'pharma', check: true })
  await hub.services.tenants.add({
    id: 'pgdown',
    dbUrl: `postgres://postgres@127.0.0.1:${await closedPort()}/nothing`,
    model: null,
    check: false,
  })
  const key = async (tenant: string, r: 'admin' | 'analyst', attributes?: Record<string, string[]>) =>
    (await createApiKey(hub.services.metadata, { tenant, role: r, attributes })).secret
  admin = await key('pgacme', 'admin')
  regional = await key('pgacme', 'analyst', { territories: ['ACM-T01', 'ACM-T02'] })
  down = await key('pgdown', 'admin')
}, 120_000)

afterAll(async () => {
  await hub?.close()
  await db?.drop()
  await role?.drop()
})

type Answer = { columns: { name: string }[]; rows: unknown[][] }

async function post(path: string, key: string, json: unknown) {
  return hub.call(path, { method: 'POST', key, json })
}

describe('a PostgreSQL tenant', () => {
  it('scopes /v1/ask totals to the territories of a regional key', async () => {
    const question = 'Total TRx by territory in 2024'
    const full = (await (await post('/v1/ask', admin, { question, asOf: '2025-01-15' })).json()) as Answer
    const res = await post('/v1/ask', regional, { question, asOf: '2025-01-15' })
    expect(res.status).toBe(200)
    const scoped = (await res.json()) as Answer
    const t = scoped.columns.findIndex((c) => /territor/i.test(c.name))
    expect(t).toBeGreaterThanOrEqual(0)
    expect(full.rows.length).toBe(20)
    expect(scoped.rows.length).toBe(2)
    const byKey = new Map(full.rows.map((r) => [r[t], r]))
    for (const row of scoped.rows) expect(byKey.get(row[t])).toEqual(row)
  })

  it('runs guarded reads and refuses writes through /v1/sql', async () => {
    const read = await post('/v1/sql', admin, { sql: 'SELECT COUNT(*) AS n FROM hcps' })
    expect(read.status).toBe(200)
    expect(((await read.json()) as Answer).rows).toEqual([[100]])
    for (const sql of ['DELETE FROM hcps', 'WITH d AS (DELETE FROM hcps RETURNING 1) SELECT * FROM d']) {
      const res = await post('/v1/sql', admin, { sql })
      expect(res.status).toBe(422)
      expect(((await res.json()) as { code: string }).code).toBe('SQL_REJECTED')
    }
    const scoped = await post('/v1/sql', regional, {
      sql: 'SELECT territory_id, COUNT(*) FROM hcps GROUP BY territory_id ORDER BY 1',
    })
    expect(((await scoped.json()) as Answer).rows.map((r) => r[0])).toEqual(['ACM-T01', 'ACM-T02'])
  })

  it('pages the OData feed over every nextLink: no row lost or repeated', async () => {
    const get = (url: string, key: string, extra: Record<string, string> = {}) =>
      hub.call(url.replace(/^http:\/\/[^/]+/, ''), { key, headers: { accept: 'application/json', ...extra } })
    const total = Number(await (await get('/odata/calls/$count', admin)).text())
    expect(total).toBe(2000)
    const ids: unknown[] = []
    let next: string | undefined = '/odata/calls?$select=call_id,product_id&$orderby=product_id desc'
    let pages = 0
    while (next && pages < 50) {
      const res = await get(next, admin, { prefer: 'odata.maxpagesize=300' })
      expect(res.status).toBe(200)
      const body = (await res.json()) as { value: { call_id: string }[]; '@odata.nextLink'?: string }
      ids.push(...body.value.map((r) => r.call_id))
      next = body['@odata.nextLink']
      pages++
    }
    expect(pages).toBe(Math.ceil(total / 300))
    expect(ids.length).toBe(total)
    expect(new Set(ids).size).toBe(total)
  })

  it('answers 503 DATA_SOURCE_UNAVAILABLE with Retry-After when its server is down', async () => {
    const res = await post('/v1/sql', down, { sql: 'SELECT 1' })
    expect(res.status).toBe(503)
    expect(res.headers.get('retry-after')).toMatch(/^\d+$/)
    expect(((await res.json()) as { code: string }).code).toBe('DATA_SOURCE_UNAVAILABLE')
  })
})
