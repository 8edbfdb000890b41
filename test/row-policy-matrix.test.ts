import { join } from 'node:path'
import { createMcpConnector } from '@nl2q/mcp-server'
import { type Client, connectHttp, serveOnLoopback } from '@nl2q/mcp-server/testing'
import { createPowerBiConnector } from '@nl2q/powerbi-connector'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApiKey } from '../packages/core/src/auth/index.ts'
import { type DataSource, openDataSource } from '../packages/core/src/db/index.ts'
import { seedPharma } from '../packages/core/src/demo/index.ts'
import { createTestHub, type TestHub } from './helpers/hub.ts'
import { createTestDatabase } from './helpers/mysql.ts'
import { createSelectOnlyUser } from './helpers/mysql-user.ts'
import { createPgSelectOnlyRole, createTestPgDatabase } from './helpers/postgres.ts'

/**
 * Issue 9 §1: a territory-scoped principal sees only its territory through every door, whatever
 * the data source and whatever the database account can read of the catalogue. The sources:
 * the SQLite demo tenant, a MariaDB tenant connected as root, and the same MariaDB database
 * connected as a real `GRANT SELECT ON db.*` user (which cannot see TABLE_CONSTRAINTS), and a
 * PostgreSQL tenant connected as a SELECT-only role (which cannot see information_schema's key
 * views). Expected
 * numbers come from hand-written SQL against the database itself.
 */

interface Source {
  tenant: string
  territory: string
  /** Read-write handle for the hand-written SQL (never the hub's). */
  truth: () => DataSource
}

const MCP_ENV = { HUB_PUBLIC_URL: 'https://hub.test', HUB_RATE_LIMIT: '100000' }

let hub: TestHub
let mcp: { url: string; close(): Promise<void> }
let db: Awaited<ReturnType<typeof createTestDatabase>>
let noFk: Awaited<ReturnType<typeof createTestDatabase>>
let reader: Awaited<ReturnType<typeof createSelectOnlyUser>>
let sqliteTruth: DataSource
let mysqlTruth: DataSource
let pgDb: Awaited<ReturnType<typeof createTestPgDatabase>>
let pgReader: Awaited<ReturnType<typeof createPgSelectOnlyRole>>
let pgTruth: DataSource
const clients: Client[] = []

const SOURCES: Source[] = [
  { tenant: 'acme', territory: 'ACM-T03', truth: () => sqliteTruth },
  { tenant: 'mdb-root', territory: 'MDB-T03', truth: () => mysqlTruth },
  { tenant: 'mdb-select', territory: 'MDB-T03', truth: () => mysqlTruth },
  { tenant: 'pg-select', territory: 'PGS-T03', truth: () => pgTruth },
]

beforeAll(async () => {
  db = await createTestDatabase('nl2q_rpm')
  mysqlTruth = openDataSource(db.url)
  await seedPharma(mysqlTruth, { prefix: 'MDB', seed: 7, scale: 0.05 })
  reader = await createSelectOnlyUser(db.name)
  hub = await createTestHub({
    env: MCP_ENV,
    connectors: [createPowerBiConnector({ pageSize: 5000 }), createMcpConnector()],
  })
  await hub.services.tenants.add({ id: 'mdb-root', dbUrl: db.url, model: 'pharma' })
  await hub.services.tenants.add({ id: 'mdb-select', dbUrl: reader.url, model: 'pharma' })
  // The same data with keys but no foreign keys (CREATE TABLE … LIKE copies no FOREIGN KEY): the
  // territory policy cannot reach any table but territories.
  noFk = await createTestDatabase('nl2q_rpm_nofk')
  for (const t of ['territories', 'reps', 'hcps', 'products', 'prescriptions', 'calls']) {
    await mysqlTruth.knex.raw(`CREATE TABLE \`${noFk.name}\`.${t} LIKE ${t}`)
    await mysqlTruth.knex.raw(`INSERT INTO \`${noFk.name}\`.${t} SELECT * FROM ${t}`)
  }
  await hub.services.tenants.add({ id: 'mdb-nofk', dbUrl: noFk.url, model: 'pharma' })
  pgDb = await createTestPgDatabase('nl2q_rpm')
  pgTruth = openDataSource(pgDb.url)
  await seedPharma(pgTruth, { prefix: 'PGS', seed: 7, scale: 0.05 })
  pgReader = await createPgSelectOnlyRole(pgDb.url)
  await hub.services.tenants.add({ id: 'pg-select', dbUrl: pgReader.url, model: 'pharma' })
  sqliteTruth = openDataSource(`sqlite:${join(hub.home, 'tenants', 'acme.sqlite')}`, { readOnly: true })
  mcp = await serveOnLoopback(hub.app)
}, 120_000)

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close().catch(() => undefined)))
  await mcp?.close()
  await hub?.close()
  await sqliteTruth?.knex.destroy()
  await mysqlTruth?.knex.destroy()
  await reader?.drop()
  await noFk?.drop()
  await db?.drop()
  await pgTruth?.knex.destroy()
  await pgDb?.drop()
  await pgReader?.drop()
})

async function one(ds: DataSource, sql: string, bindings: string[] = []): Promise<number> {
  const raw = (await ds.knex.raw(sql, bindings)) as unknown
  const rows = (
    ds.dialect === 'mysql'
      ? (raw as unknown[][])[0]
      : ds.dialect === 'postgresql'
        ? (raw as { rows: unknown[] }).rows
        : raw
  ) as Record<string, unknown>[]
  return Number(Object.values(rows[0] ?? {})[0])
}

const TRX_IN = `SELECT SUM(p.trx) FROM prescriptions p JOIN hcps h ON h.hcp_id = p.hcp_id WHERE h.territory_id = ?`
const HCPS_IN = 'SELECT COUNT(*) FROM hcps WHERE territory_id = ?'
const ENDOS_IN = "SELECT COUNT(*) FROM hcps WHERE territory_id = ? AND specialty = 'Endocrinology'"

async function post(path: string, key: string, json: unknown) {
  const res = await hub.call(path, { method: 'POST', key, json })
  return { status: res.status, body: (await res.json()) as Record<string, unknown> }
}

async function odata(path: string, key: string) {
  return hub.app.request(`http://hub.test${path}`, {
    headers: { authorization: `Bearer ${key}`, 'odata-maxversion': '4.0' },
  })
}

const firstCell = (body: Record<string, unknown>) => Number((body.rows as unknown[][])[0]?.[0])

/** Save "Total TRx" as an OData entity set of the tenant (as its admin). */
async function saveTotalTrx(tenant: string): Promise<void> {
  const admin = (await createApiKey(hub.services.metadata, { tenant, role: 'admin' })).secret
  const { status, body } = await post('/v1/saved-questions', admin, {
    name: 'total_trx',
    question: 'Total TRx',
  })
  expect(status, JSON.stringify(body)).toBe(201)
}

describe.each(SOURCES)('row policy on $tenant', (source) => {
  const expected = { trx: 0, tenantTrx: 0, hcps: 0, tenantHcps: 0, endos: 0 }
  beforeAll(async () => {
    const ds = source.truth()
    expected.trx = await one(ds, TRX_IN, [source.territory])
    expected.tenantTrx = await one(ds, 'SELECT SUM(trx) FROM prescriptions')
    expected.hcps = await one(ds, HCPS_IN, [source.territory])
    expected.tenantHcps = await one(ds, 'SELECT COUNT(*) FROM hcps')
    expected.endos = await one(ds, ENDOS_IN, [source.territory])
    // the fixture itself must be able to tell a scoped answer from an unscoped one
    expect(expected.trx).toBeGreaterThan(0)
    expect(expected.trx).toBeLessThan(expected.tenantTrx)
    expect(expected.hcps).toBeLessThan(expected.tenantHcps)
    await saveTotalTrx(source.tenant)
  })

  describe.each(['viewer', 'analyst'] as const)('a %s scoped to one territory', (role) => {
    let key: string
    beforeAll(async () => {
      key = (
        await createApiKey(hub.services.metadata, {
          tenant: source.tenant,
          role,
          attributes: { territories: [source.territory] },
        })
      ).secret
    })

    it('gets the territory total, not the tenant total, from POST /v1/ask "Total TRx"', async () => {
      const { status, body } = await post('/v1/ask', key, { question: 'Total TRx' })
      expect(status, JSON.stringify(body)).toBe(200)
      expect(firstCell(body)).toBe(expected.trx)
      expect(firstCell(body)).not.toBe(expected.tenantTrx)
    })

    it('gets the territory total from POST /v1/sql (analyst) or is refused SQL (viewer)', async () => {
      const { status, body } = await post('/v1/sql', key, { sql: 'SELECT SUM(trx) AS t FROM prescriptions' })
      if (role === 'viewer') {
        expect(status).toBe(403)
        expect(body.code).toBe('FORBIDDEN')
        return
      }
      expect(status, JSON.stringify(body)).toBe(200)
      expect(firstCell(body)).toBe(expected.trx)
      const hcps = await post('/v1/sql', key, { sql: 'SELECT COUNT(*) FROM hcps' })
      expect(firstCell(hcps.body)).toBe(expected.hcps)
    })

    it('counts only the territory through OData /hcps/$count and a $filter', async () => {
      const count = await odata('/odata/hcps/$count', key)
      expect(count.status).toBe(200)
      expect(Number(await count.text())).toBe(expected.hcps)
      const filtered = await odata(
        `/odata/hcps?$filter=${encodeURIComponent("specialty eq 'Endocrinology'")}&$count=true&$top=1`,
        key,
      )
      expect(filtered.status).toBe(200)
      expect(((await filtered.json()) as Record<string, unknown>)['@odata.count']).toBe(expected.endos)
    })

    it('gets the territory total from a saved question read over OData', async () => {
      const res = await odata('/odata/saved_total_trx', key)
      expect(res.status, await res.clone().text()).toBe(200)
      const { value } = (await res.json()) as { value: Record<string, unknown>[] }
      expect(value[0]?.trx).toBe(expected.trx)
    })

    it('gets the territory total from the MCP ask tool', async () => {
      const client = await connectHttp(mcp.url, key, '2025-11-25')
      clients.push(client)
      const result = await client.callTool({ name: 'ask', arguments: { question: 'Total TRx' } })
      expect(result.isError, JSON.stringify(result.content)).toBeFalsy()
      expect(firstCell(result.structuredContent as Record<string, unknown>)).toBe(expected.trx)
    })
  })
})

describe('a tenant whose foreign keys the engine cannot see (fail closed)', () => {
  const keys = { viewer: '', analyst: '', admin: '' }
  beforeAll(async () => {
    for (const role of ['viewer', 'analyst', 'admin'] as const)
      keys[role] = (
        await createApiKey(hub.services.metadata, {
          tenant: 'mdb-nofk',
          role,
          attributes: role === 'admin' ? {} : { territories: ['MDB-T03'] },
        })
      ).secret
  })

  const expectWithheld = (status: number, body: Record<string, unknown>, dataset: string) => {
    expect(status, JSON.stringify(body)).toBe(403)
    expect(body).toMatchObject({ code: 'FORBIDDEN', dataset, reason: 'row_policy_unreachable' })
    expect(body.detail).toMatch(/cannot be scoped by the row policy/)
  }

  it('refuses /v1/ask and /v1/sql over a dataset the policy cannot reach, instead of returning every row', async () => {
    for (const role of ['viewer', 'analyst'] as const) {
      const asked = await post('/v1/ask', keys[role], { question: 'Total TRx' })
      expectWithheld(asked.status, asked.body, 'prescriptions')
    }
    const sql = await post('/v1/sql', keys.analyst, { sql: 'SELECT COUNT(*) FROM hcps' })
    expectWithheld(sql.status, sql.body, 'hcps')
    // the policy's own table stays readable, scoped
    const own = await post('/v1/sql', keys.analyst, { sql: 'SELECT COUNT(*) FROM territories' })
    expect(firstCell(own.body)).toBe(1)
  })

  it('leaves withheld datasets out of GET /v1/datasets and refuses GET /v1/datasets/<name>', async () => {
    const list = await hub.call('/v1/datasets', { key: keys.viewer })
    const { datasets } = (await list.json()) as { datasets: { name: string }[] }
    expect(datasets.map((d) => d.name).sort()).toEqual(['products', 'territories'])
    const one = await hub.call('/v1/datasets/hcps', { key: keys.viewer })
    expectWithheld(one.status, (await one.json()) as Record<string, unknown>, 'hcps')
  })

  it('refuses a saved question over a withheld dataset', async () => {
    await saveTotalTrx('mdb-nofk')
    const res = await odata('/odata/saved_total_trx', keys.viewer)
    expect(res.status).toBe(403)
    expect(await res.text()).toMatch(/cannot be scoped by the row policy/)
  })

  it('leaves the withheld datasets out of OData and refuses them over MCP', async () => {
    const service = (await (await odata('/odata/', keys.viewer)).json()) as { value: { name: string }[] }
    const datasets = service.value.map((e) => e.name).filter((n) => !n.startsWith('saved_'))
    expect(datasets.sort()).toEqual(['products', 'territories'])
    expect((await odata('/odata/hcps/$count', keys.viewer)).status).toBe(404)
    const client = await connectHttp(mcp.url, keys.viewer, '2025-11-25')
    clients.push(client)
    const result = await client.callTool({ name: 'ask', arguments: { question: 'Total TRx' } })
    expect(result.isError).toBe(true)
    expect(JSON.stringify(result.content)).toMatch(/FORBIDDEN: The dataset 'prescriptions' cannot be scoped/)
  })

  it('still answers an admin, whom no rule binds, with the tenant total', async () => {
    const { status, body } = await post('/v1/ask', keys.admin, { question: 'Total TRx' })
    expect(status).toBe(200)
    expect(firstCell(body)).toBe(await one(mysqlTruth, 'SELECT SUM(trx) FROM prescriptions'))
  })
})
