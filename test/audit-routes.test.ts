import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAuditLog } from '../packages/core/src/audit/index.ts'
import { authenticate, createApiKey, createAuthenticator } from '../packages/core/src/auth/index.ts'
import { loadConfig } from '../packages/core/src/config/index.ts'
import { type MetadataStore, openMetadataStore } from '../packages/core/src/metadata/store.ts'
import { problemHandler } from '../packages/core/src/service/errors.ts'
import { createRouter } from '../packages/core/src/service/openapi.ts'
import { auditRoutes } from '../packages/core/src/service/routes/audit.ts'
import { keysRoutes } from '../packages/core/src/service/routes/keys.ts'

const home = mkdtempSync(join(tmpdir(), 'nl2q-audit-routes-'))
let store: MetadataStore
let app: ReturnType<typeof createRouter>
let adminA: string
let viewerA: string
let adminB: string

type Page = {
  items: { seq: number; tenant: string; action: string; subject: string }[]
  nextCursor: string | null
}
const get = async (path: string, key: string) => {
  const res = await app.request(path, { headers: { Authorization: `Bearer ${key}` } })
  return { status: res.status, body: (await res.json()) as Page & { code?: string } }
}

beforeAll(async () => {
  const config = loadConfig({ HUB_HOME: home, HUB_DEMO: 'false' })
  store = openMetadataStore(config.databaseUrl)
  await store.migrate()
  const created_at = new Date().toISOString()
  await store.knex('tenants').insert([
    { id: 'acme', db_url: 'sqlite:a.sqlite', created_at },
    { id: 'globex', db_url: 'sqlite:g.sqlite', created_at },
  ])
  adminA = (await createApiKey(store, { tenant: 'acme', role: 'admin' })).secret
  viewerA = (await createApiKey(store, { tenant: 'acme', role: 'viewer' })).secret
  adminB = (await createApiKey(store, { tenant: 'globex', role: 'admin' })).secret
  const audit = createAuditLog(store)
  for (let i = 0; i < 7; i++) {
    await audit.append('acme', {
      action: i % 2 ? 'data.sql' : 'data.query',
      outcome: 'success',
      subject: `u${i % 3}`,
    })
  }
  await audit.append('globex', { action: 'data.query', outcome: 'success', subject: 'secret-globex-user' })
  app = createRouter()
  app.onError(problemHandler)
  app.use(
    '/v1/*',
    authenticate({
      authenticator: createAuthenticator({ config, metadata: store, tenants: { exists: () => true } }),
      audit,
    }),
  )
  app.route('/', auditRoutes({ metadata: store, config }))
  app.route('/', keysRoutes({ metadata: store }))
})
afterAll(async () => {
  await store.close()
  rmSync(home, { recursive: true, force: true })
})

describe('GET /v1/audit', () => {
  it('shows a tenant admin only their own tenant’s events, newest first, in pages', async () => {
    const first = await get('/v1/audit?limit=3&action=data.query', adminA)
    expect(first.status).toBe(200)
    // seq 1 and 2 are the key.created events of the two acme keys
    expect(first.body.items.map((e) => e.seq)).toEqual([9, 7, 5])
    expect(first.body.items.every((e) => e.tenant === 'acme')).toBe(true)
    const second = await get(`/v1/audit?limit=3&action=data.query&cursor=${first.body.nextCursor}`, adminA)
    expect(second.body.items.map((e) => e.seq)).toEqual([3])
    expect(second.body.nextCursor).toBeNull()
    expect((await get('/v1/audit?subject=u1', adminA)).body.items.map((e) => e.seq)).toEqual([7, 4])
    const all = await get('/v1/audit?limit=500', adminA)
    expect(JSON.stringify(all.body)).not.toContain('secret-globex-user')
  })

  it('records each read of the trail in the trail', async () => {
    const before = await store
      .knex('audit_events')
      .where({ tenant: 'acme', action: 'audit.read' })
      .count({ n: '*' })
    await get('/v1/audit', adminA)
    const after = await store
      .knex('audit_events')
      .where({ tenant: 'acme', action: 'audit.read' })
      .count({ n: '*' })
    expect(Number(after[0]!.n)).toBe(Number(before[0]!.n) + 1)
  })

  it('filters by since', async () => {
    expect((await get('/v1/audit?since=2999-01-01T00:00:00Z', adminA)).body.items).toEqual([])
    expect((await get('/v1/audit?since=2000-01-01T00:00:00Z&limit=1', adminA)).body.items).toHaveLength(1)
  })

  it('refuses non-admins and bad parameters', async () => {
    expect((await get('/v1/audit', viewerA)).status).toBe(403)
    expect((await get('/v1/audit?limit=100000', adminA)).body.code).toBe('VALIDATION_FAILED')
    expect((await get('/v1/audit?since=yesterday', adminA)).status).toBe(400)
    expect((await get('/v1/audit?cursor=bogus', adminA)).body.code).toBe('BAD_REQUEST')
  })

  it('takes the tenant from the credential only', async () => {
    const res = await get('/v1/audit?tenant=acme', adminB)
    expect(res.body.items.every((e) => e.tenant === 'globex')).toBe(true)
  })

  it('appears in the OpenAPI document with the key admin routes', () => {
    const doc = app.getOpenAPI31Document({ openapi: '3.1.0', info: { title: 't', version: '1' } })
    expect(Object.keys(doc.paths ?? {})).toEqual(
      expect.arrayContaining(['/v1/audit', '/v1/admin/keys', '/v1/admin/keys/{id}']),
    )
  })
})
