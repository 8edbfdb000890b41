import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApiKey } from '../packages/core/src/auth/index.ts'
import { createTestHub, type TestHub } from './helpers/hub.ts'

let hub: TestHub
const METRICS_TOKEN = 'metrics-token-0123456789abcdef'
let viewerKey: string
let analystKey: string
let repKey: string

beforeAll(async () => {
  hub = await createTestHub({ env: { HUB_BODY_LIMIT: '4096', HUB_METRICS_TOKEN: METRICS_TOKEN } })
  viewerKey = (await createApiKey(hub.services.metadata, { tenant: 'acme', role: 'viewer', label: 'viewer' }))
    .secret
  analystKey = (await createApiKey(hub.services.metadata, { tenant: 'acme', role: 'analyst', label: 'hq' }))
    .secret
  repKey = (
    await createApiKey(hub.services.metadata, {
      tenant: 'acme',
      role: 'viewer',
      attributes: { territories: ['ACM-T01', 'ACM-T02'] },
      label: 'rep',
    })
  ).secret
})
afterAll(async () => hub?.close())

async function problem(res: Response) {
  expect(res.headers.get('content-type')).toContain('application/problem+json')
  const body = (await res.json()) as Record<string, unknown>
  expect(body).toMatchObject({ status: res.status, code: expect.any(String), requestId: expect.any(String) })
  expect(JSON.stringify(body)).not.toMatch(/at .*\.ts:\d+|select |SELECT |\/tmp\/|sqlite:/)
  return body
}

describe('operations endpoints', () => {
  it("answers liveness and readiness from the hub's own dependencies, naming no tenant", async () => {
    expect((await hub.call('/health/live')).status).toBe(200)
    const ready = await hub.call('/health/ready')
    expect(ready.status).toBe(200)
    const text = await ready.text()
    const body = JSON.parse(text) as { checks: { name: string; ok: boolean }[] }
    expect(body.checks.map((c) => c.name)).toEqual(['metadata', 'audit'])
    expect(text).not.toMatch(/acme|globex/)
  })

  it('describes readiness as it is: no tenant data source in the /health index or the OpenAPI example', async () => {
    const index = (await (await hub.call('/health')).json()) as {
      probes: { path: string; description: string }[]
    }
    const ready = index.probes.find((p) => p.path === '/health/ready')!
    expect(ready.description).toMatch(/tenant data sources are not checked/)
    expect(ready.description).not.toMatch(/every tenant/)
    const doc = await (await hub.call('/openapi.json')).text()
    expect(doc).not.toContain('tenant:acme')
  })

  it("shows a tenant admin their own data source's health at /v1/admin/health, and nobody else", async () => {
    const res = await hub.call('/v1/admin/health', { key: hub.keys.acme })
    expect(res.status).toBe(200)
    const text = await res.text()
    expect(JSON.parse(text)).toEqual({
      tenant: 'acme',
      status: 'ok',
      checks: [{ name: 'data-source', ok: true }],
    })
    expect(text).not.toContain('globex')
    expect((await hub.call('/v1/admin/health', { key: viewerKey })).status).toBe(403)
    expect((await hub.call('/v1/admin/health')).status).toBe(401)
  })

  it('publishes an OpenAPI document generated from the route schemas, and a docs page', async () => {
    const doc = (await (await hub.call('/openapi.json')).json()) as {
      openapi: string
      paths: Record<string, unknown>
    }
    expect(doc.openapi).toBe('3.1.0')
    for (const p of [
      '/v1/ask',
      '/v1/sql',
      '/v1/datasets',
      '/v1/datasets/{name}',
      '/v1/me',
      '/v1/audit',
      '/health/ready',
    ])
      expect(Object.keys(doc.paths)).toContain(p)
    const docs = await hub.call('/docs')
    expect(docs.headers.get('content-type')).toContain('text/html')
  })

  it('exposes Prometheus metrics with request counts by route template to the metrics token only', async () => {
    await hub.call('/v1/me', { key: hub.keys.acme })
    await hub.call('/v1/ask', { method: 'POST', key: hub.keys.acme, json: { question: 'List the products' } })
    expect((await hub.call('/metrics')).status).toBe(401)
    expect((await hub.call('/metrics', { key: hub.keys.acme })).status).toBe(401)
    const res = await hub.call('/metrics', { key: METRICS_TOKEN })
    expect(res.status).toBe(200)
    const text = await res.text()
    expect(text).toMatch(/nl2q_http_requests_total\{method="GET",route="\/v1\/me",status="200"\} \d+/)
    expect(text).toContain('nl2q_audit_write_duration_seconds')
    expect(text).toMatch(/nl2q_pool_connections_free\{tenant="acme"\} \d+/)
  })
})

describe('errors are RFC 9457 problem documents', () => {
  it('answers an unknown route with 404 problem+json', async () => {
    const res = await hub.call('/nope')
    expect(res.status).toBe(404)
    expect((await problem(res)).code).toBe('NOT_FOUND')
  })

  it('honours a well-formed X-Request-Id and replaces a malformed one', async () => {
    const ok = await hub.call('/nope', { headers: { 'x-request-id': 'trace-12345678' } })
    expect(ok.headers.get('x-request-id')).toBe('trace-12345678')
    expect((await problem(ok)).requestId).toBe('trace-12345678')
    const bad = await hub.call('/nope', { headers: { 'x-request-id': '<script>alert(1)</script>' } })
    expect(bad.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/)
  })

  it('rejects malformed JSON, unknown fields and wrong types with 400 VALIDATION_FAILED, never 500', async () => {
    for (const body of [
      '{',
      '[]',
      '{"question": 5}',
      '{"question":"x","tenant":"globex"}',
      '{"question":""}',
    ]) {
      const res = await hub.call('/v1/ask', {
        method: 'POST',
        key: hub.keys.acme,
        headers: { 'content-type': 'application/json' },
        body,
      })
      expect(res.status, body).toBe(400)
      expect(['VALIDATION_FAILED', 'BAD_REQUEST']).toContain((await problem(res)).code)
    }
  })

  it('refuses bodies over the limit with 413', async () => {
    const res = await hub.call('/v1/ask', {
      method: 'POST',
      key: hub.keys.acme,
      json: { question: 'x'.repeat(5000) },
    })
    expect(res.status).toBe(413)
    expect((await problem(res)).code).toBe('PAYLOAD_TOO_LARGE')
  })
})

describe('/v1/ask', () => {
  it('answers with the interpretation, plan, typed columns and SQL for an admin', async () => {
    const res = await hub.call('/v1/ask', {
      method: 'POST',
      key: hub.keys.acme,
      json: { question: 'What were total TRx for Tirosint in Q4 2024?' },
    })
    expect(res.status).toBe(200)
    const body = (await res.json()) as Record<string, unknown>
    expect(body.interpretation).toMatch(/Tirosint/)
    expect(body.columns).toEqual([expect.objectContaining({ type: 'integer' })])
    expect(body.rowCount).toBe(1)
    expect(typeof body.sql).toBe('string')
    expect(body.plan).toMatchObject({ dataset: 'prescriptions' })
  })

  it('hides the SQL from viewers', async () => {
    const res = await hub.call('/v1/ask', {
      method: 'POST',
      key: viewerKey,
      json: { question: 'List the products' },
    })
    expect(res.status).toBe(200)
    expect((await res.json()) as object).not.toHaveProperty('sql')
  })

  it('refuses questions it cannot answer with 422 and a stable code', async () => {
    const cases: [string, string][] = [
      ['Delete all calls', 'READ_ONLY'],
      ["What's the weather in Boston tomorrow?", 'UNANSWERABLE'],
      ["Show me the reps' passwords", 'UNKNOWN_FIELD'],
    ]
    for (const [question, code] of cases) {
      const res = await hub.call('/v1/ask', { method: 'POST', key: hub.keys.acme, json: { question } })
      expect(res.status, question).toBe(422)
      expect((await problem(res)).code).toBe(code)
    }
  })

  it("answers only from the caller's own tenant", async () => {
    const ask = async (key: string | undefined) => {
      const res = await hub.call('/v1/ask', {
        method: 'POST',
        key,
        json: { question: 'List the territories' },
      })
      return ((await res.json()) as { rows: unknown[][] }).rows.flat().filter((v) => typeof v === 'string')
    }
    const acme = await ask(hub.keys.acme)
    const globex = await ask(hub.keys.globex)
    expect(
      acme.filter((v) => /^[A-Z]{3}-T/.test(v as string)).every((v) => (v as string).startsWith('ACM-')),
    ).toBe(true)
    expect(
      globex.filter((v) => /^[A-Z]{3}-T/.test(v as string)).every((v) => (v as string).startsWith('GLX-')),
    ).toBe(true)
  })

  it('applies row policies through /v1/ask and never shares cached results across policies', async () => {
    const question = { question: 'How many HCPs are there by territory?' }
    const allRes = await hub.call('/v1/ask', { method: 'POST', key: analystKey, json: question })
    expect(allRes.status).toBe(200)
    const all = (await allRes.json()) as { rows: unknown[][] }
    const rep = (await (
      await hub.call('/v1/ask', { method: 'POST', key: repKey, json: question })
    ).json()) as {
      rows: unknown[][]
    }
    const again = (await (
      await hub.call('/v1/ask', { method: 'POST', key: repKey, json: question })
    ).json()) as {
      rows: unknown[][]
    }
    const territories = (rows: unknown[][]) => new Set(rows.map((r) => r[0]))
    expect(territories(rep.rows)).toEqual(new Set(['ACM-T01', 'ACM-T02']))
    expect(again.rows).toEqual(rep.rows)
    // the unrestricted HQ analyst asked first with the same plan: its cached answer was not reused
    expect(territories(all.rows).size).toBe(20)
  })

  it('fails closed: a viewer without the territories attribute sees no scoped rows', async () => {
    const res = await hub.call('/v1/ask', {
      method: 'POST',
      key: viewerKey,
      json: { question: 'How many HCPs are there?' },
    })
    expect(((await res.json()) as { rows: unknown[][] }).rows).toEqual([[0]])
  })

  it('writes an audit event for every answer, with the question hash and row count', async () => {
    const res = await hub.call('/v1/ask', {
      method: 'POST',
      key: hub.keys.globex,
      json: { question: 'List the products' },
    })
    const requestId = res.headers.get('x-request-id')
    const row = await hub.services.metadata
      .knex('audit_events')
      .where({ tenant: 'globex', request_id: requestId })
      .first()
    expect(row).toMatchObject({ action: 'data.ask', outcome: 'success', row_count: 7 })
    expect(row.question_hash).toMatch(/^[0-9a-f]{64}$/)
  })
})

describe('/v1/me and /v1/datasets', () => {
  it('returns the verified principal', async () => {
    const me = (await (await hub.call('/v1/me', { key: repKey })).json()) as Record<string, unknown>
    expect(me).toMatchObject({
      tenant: 'acme',
      roles: ['viewer'],
      attributes: { territories: ['ACM-T01', 'ACM-T02'] },
    })
  })

  it('lists datasets with measures, dimensions and example questions', async () => {
    const body = (await (await hub.call('/v1/datasets', { key: viewerKey })).json()) as {
      datasets: { name: string; examples: string[] }[]
    }
    expect(body.datasets.map((d) => d.name)).toContain('prescriptions')
    const one = await hub.call('/v1/datasets/prescriptions', { key: viewerKey })
    expect(one.status).toBe(200)
    const missing = await hub.call('/v1/datasets/nope', { key: viewerKey })
    expect(missing.status).toBe(404)
  })
})
