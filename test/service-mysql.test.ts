import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAuditLog } from '../packages/core/src/audit/index.ts'
import { createApiKey } from '../packages/core/src/auth/index.ts'
import { createTestHub, type TestHub } from './helpers/hub.ts'
import { createTestDatabase } from './helpers/mysql.ts'

let db: Awaited<ReturnType<typeof createTestDatabase>>
let hub: TestHub

beforeAll(async () => {
  db = await createTestDatabase()
  hub = await createTestHub({ env: { HUB_DATABASE_URL: db.url, HUB_CORS_ORIGINS: 'https://bi.example.com' } })
})
afterAll(async () => {
  await hub?.close()
  await db?.drop()
})

describe('a hub whose metadata store is MariaDB', () => {
  it('serves answers, audits them in MariaDB and keeps the chain verifiable', async () => {
    const res = await hub.call('/v1/ask', {
      method: 'POST',
      key: hub.keys.acme,
      json: { question: 'List the products' },
    })
    expect(res.status).toBe(200)
    expect(hub.services.metadata.dialect).toBe('mysql')
    const verify = await createAuditLog(hub.services.metadata).verify('acme')
    expect(verify.ok).toBe(true)
    const [rows] = (await hub.services.metadata.knex.raw(
      "SELECT COUNT(*) AS n FROM audit_events WHERE tenant = 'acme' AND action = 'data.ask'",
    )) as [{ n: number }[]]
    expect(Number(rows[0]?.n)).toBeGreaterThanOrEqual(1)
  })

  it('applies the row policy to guarded SQL through /v1/sql', async () => {
    const regional = (
      await createApiKey(hub.services.metadata, {
        tenant: 'acme',
        role: 'analyst',
        attributes: { territories: ['ACM-T01', 'ACM-T02'] },
      })
    ).secret
    const sql =
      'SELECT h.territory_id, COUNT(*) AS n FROM prescriptions p JOIN hcps h ON h.hcp_id = p.hcp_id GROUP BY h.territory_id'
    const scoped = (await (
      await hub.call('/v1/sql', { method: 'POST', key: regional, json: { sql } })
    ).json()) as {
      rows: [string, number][]
    }
    const full = (await (
      await hub.call('/v1/sql', { method: 'POST', key: hub.keys.acme, json: { sql } })
    ).json()) as {
      rows: [string, number][]
    }
    expect(scoped.rows.map((r) => r[0]).sort()).toEqual(['ACM-T01', 'ACM-T02'])
    expect(full.rows).toHaveLength(20)
    for (const [territory, n] of scoped.rows) expect(full.rows.find((r) => r[0] === territory)?.[1]).toBe(n)
  })

  it('answers CORS only for allow-listed origins', async () => {
    const preflight = (origin: string) =>
      hub.call('/v1/ask', {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization',
        },
      })
    const allowed = await preflight('https://bi.example.com')
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://bi.example.com')
    const foreign = await preflight('https://evil.example')
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull()
  })
})

describe('CORS is off by default', () => {
  it('sends no Access-Control-Allow-Origin when no allow-list is configured', async () => {
    const plain = await createTestHub({ demo: false })
    try {
      const res = await plain.call('/health/live', { headers: { origin: 'https://evil.example' } })
      expect(res.headers.get('access-control-allow-origin')).toBeNull()
    } finally {
      await plain.close()
    }
  })
})
