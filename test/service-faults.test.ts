import { type AddressInfo, createServer, type Socket } from 'node:net'
import { serve } from '@hono/node-server'
import { afterEach, describe, expect, it } from 'vitest'
import { createApiKey } from '../packages/core/src/auth/index.ts'
import { trickledPost } from './helpers/http.ts'
import { createTestHub, type TestHub } from './helpers/hub.ts'

let hub: TestHub | undefined
afterEach(async () => {
  await hub?.close()
  hub = undefined
})

describe('faults never serve unaudited data or leak secrets', () => {
  it("stays ready when a tenant's data source is down, and shows only that tenant's admin why", async () => {
    hub = await createTestHub()
    await hub.services.tenants.add({
      id: 'offline',
      dbUrl: 'mysql://app:hunter2@127.0.0.1:1/sales',
      check: false,
    })
    const res = await hub.call('/health/ready')
    expect(res.status).toBe(200)
    const text = await res.text()
    expect(JSON.parse(text)).toMatchObject({ status: 'ok' })
    expect(text).not.toMatch(/offline|acme|hunter2/)
    const admin = await createApiKey(hub.services.metadata, { tenant: 'offline', role: 'admin' })
    const mine = await hub.call('/v1/admin/health', { key: admin.secret })
    expect(mine.status).toBe(200)
    const body = (await mine.json()) as { tenant: string; status: string; checks: { ok: boolean }[] }
    expect(body).toMatchObject({
      tenant: 'offline',
      status: 'unavailable',
      checks: [{ name: 'data-source', ok: false }],
    })
    expect(JSON.stringify(body)).not.toMatch(/hunter2|127\.0\.0\.1|sales|acme/)
  })

  it('answers readiness and the admin health check within 2 s when a data source hangs', async () => {
    // A "database" that accepts connections and never says a word: pings wait forever.
    const sockets: Socket[] = []
    const silent = createServer((s) => sockets.push(s))
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()))
    const port = (silent.address() as AddressInfo).port
    try {
      hub = await createTestHub()
      await hub.services.tenants.add({
        id: 'frozen',
        dbUrl: `mysql://app:pw@127.0.0.1:${port}/sales`,
        check: false,
      })
      const admin = await createApiKey(hub.services.metadata, { tenant: 'frozen', role: 'admin' })
      let started = performance.now()
      expect((await hub.call('/health/ready')).status).toBe(200)
      expect(performance.now() - started).toBeLessThan(2500)
      started = performance.now()
      const res = await hub.call('/v1/admin/health', { key: admin.secret })
      expect(performance.now() - started).toBeLessThan(3000)
      expect(await res.json()).toMatchObject({
        status: 'unavailable',
        checks: [{ ok: false, detail: 'TIMEOUT' }],
      })
    } finally {
      for (const s of sockets) s.destroy()
      silent.close()
    }
  })

  it('answers 503 AUDIT_UNAVAILABLE and returns no rows when the audit record cannot be written', async () => {
    hub = await createTestHub()
    const ok = await hub.call('/v1/ask', {
      method: 'POST',
      key: hub.keys.acme,
      json: { question: 'List the products' },
    })
    expect(ok.status).toBe(200)
    await hub.services.metadata.knex.schema.renameTable('audit_events', 'audit_events_gone')
    const res = await hub.call('/v1/ask', {
      method: 'POST',
      key: hub.keys.acme,
      json: { question: 'List the products' },
    })
    expect(res.status).toBe(503)
    const body = (await res.json()) as Record<string, unknown>
    expect(body.code).toBe('AUDIT_UNAVAILABLE')
    expect(body).not.toHaveProperty('rows')
    expect(JSON.stringify(body)).not.toContain('Tirosint')
    await hub.services.metadata.knex.schema.renameTable('audit_events_gone', 'audit_events')
  })

  it('ends a request that outlives HUB_REQUEST_TIMEOUT_MS with 504 problem+json', async () => {
    hub = await createTestHub({ env: { HUB_REQUEST_TIMEOUT_MS: '300' } })
    const server = serve({ fetch: hub.app.fetch, port: 0, hostname: '127.0.0.1' })
    await new Promise((r) => server.once('listening', r))
    const address = server.address()
    const port = typeof address === 'object' && address ? address.port : 0
    try {
      const key = hub.keys.acme!
      // the body stalls longer than the timeout
      const answer = await trickledPost({
        port,
        path: '/v1/ask',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        first: '{"question":',
        rest: '"List the products"}',
        pauseMs: 1500,
      })
      expect(answer.status).toBe(504)
      expect(JSON.parse(answer.body)).toMatchObject({ code: 'TIMEOUT', status: 504 })
    } finally {
      server.close()
    }
  })
})
