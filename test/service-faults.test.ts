import { serve } from '@hono/node-server'
import { afterEach, describe, expect, it } from 'vitest'
import { trickledPost } from './helpers/http.ts'
import { createTestHub, type TestHub } from './helpers/hub.ts'

let hub: TestHub | undefined
afterEach(async () => {
  await hub?.close()
  hub = undefined
})

describe('faults never serve unaudited data or leak secrets', () => {
  it('fails readiness with 503 naming the tenant, not its database URL, when a data source is down', async () => {
    hub = await createTestHub()
    await hub.services.tenants.add({
      id: 'offline',
      dbUrl: 'mysql://app:hunter2@127.0.0.1:1/sales',
      check: false,
    })
    const res = await hub.call('/health/ready')
    expect(res.status).toBe(503)
    const body = (await res.json()) as { status: string; checks: { name: string; ok: boolean }[] }
    expect(body.status).toBe('unavailable')
    expect(body.checks).toContainEqual(expect.objectContaining({ name: 'tenant:offline', ok: false }))
    expect(body.checks).toContainEqual(expect.objectContaining({ name: 'tenant:acme', ok: true }))
    expect(JSON.stringify(body)).not.toMatch(/hunter2|127\.0\.0\.1|sales/)
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
