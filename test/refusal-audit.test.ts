import { randomUUID } from 'node:crypto'
import { createMcpConnector } from '@nl2q/mcp-server'
import { createPowerBiConnector } from '@nl2q/powerbi-connector'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApiKey } from '../packages/core/src/auth/index.ts'
import { createTestHub, type TestHub } from './helpers/hub.ts'

/**
 * Issue 9 §3: every refused request that carries a credential leaves exactly one audit record,
 * found by its request id — whichever door refused it and however.
 */

interface AuditRow {
  tenant: string
  action: string
  outcome: string
  credential_id: string | null
  subject: string | null
  resource: string | null
  channel: string | null
  detail: string | null
}

let hub: TestHub
let viewerKey: string
let viewerKeyId: string
let adminKey: string
const FORGED = `nl2q_${'0'.repeat(16)}_${'x'.repeat(43)}`

async function send(
  path: string,
  init: {
    method?: string
    key?: string
    json?: unknown
    body?: string
    headers?: Record<string, string>
  } = {},
) {
  const id = `refusal-${randomUUID()}`
  const headers: Record<string, string> = { 'x-request-id': id, ...init.headers }
  if (init.key) headers.authorization = `Bearer ${init.key}`
  let body = init.body
  if (init.json !== undefined) {
    headers['content-type'] = 'application/json'
    body = JSON.stringify(init.json)
  }
  const res = await hub.app.request(`http://localhost${path}`, {
    method: init.method ?? 'GET',
    headers,
    body,
  })
  return { res, id }
}

async function rows(requestId: string): Promise<AuditRow[]> {
  return (await hub.services.metadata.knex('audit_events').where({ request_id: requestId })) as AuditRow[]
}

async function onlyRecord(requestId: string): Promise<AuditRow & { parsed: Record<string, unknown> }> {
  const found = await rows(requestId)
  expect(found, `audit records of ${requestId}`).toHaveLength(1)
  const row = found[0] as AuditRow
  return { ...row, parsed: row.detail ? (JSON.parse(row.detail) as Record<string, unknown>) : {} }
}

const mcpInit = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } },
}
const mcpHeaders = { accept: 'application/json, text/event-stream', 'content-type': 'application/json' }

beforeAll(async () => {
  const env = { HUB_BODY_LIMIT: '4096', HUB_RATE_LIMIT: '100000' }
  hub = await createTestHub({
    env,
    connectors: [createMcpConnector(env), createPowerBiConnector({})],
  })
  adminKey = hub.keys.acme as string
  const viewer = await createApiKey(hub.services.metadata, {
    tenant: 'acme',
    role: 'viewer',
    label: 'viewer',
  })
  viewerKey = viewer.secret
  viewerKeyId = viewer.id
}, 120_000)
afterAll(async () => hub?.close())

describe('refusals of an authenticated caller', () => {
  it.each([
    ['GET', '/v1/audit', undefined],
    ['GET', '/v1/admin/keys', undefined],
    ['POST', '/v1/admin/keys', { role: 'admin' }],
    ['DELETE', '/v1/admin/keys/0000000000000000', undefined],
    ['POST', '/v1/admin/refresh', {}],
    ['POST', '/v1/saved-questions', { name: 'q1', question: 'Total TRx' }],
  ])('audits a viewer refused on %s %s as denied in its tenant', async (method, path, json) => {
    const { res, id } = await send(path, { method, key: viewerKey, json })
    expect(res.status).toBe(403)
    const record = await onlyRecord(id)
    expect(record).toMatchObject({
      tenant: 'acme',
      action: 'request.refused',
      outcome: 'denied',
      credential_id: viewerKeyId,
      resource: `${method} ${path}`,
    })
    expect(record.parsed).toMatchObject({ status: 403, code: 'FORBIDDEN', argsHash: expect.any(String) })
  })

  it('audits a /v1/ask validation error as invalid, with a hash of the arguments', async () => {
    const a = await send('/v1/ask', { method: 'POST', key: viewerKey, json: { question: 42 } })
    const b = await send('/v1/ask', { method: 'POST', key: viewerKey, json: { question: 43 } })
    expect(a.res.status).toBe(400)
    const first = await onlyRecord(a.id)
    const second = await onlyRecord(b.id)
    expect(first).toMatchObject({ tenant: 'acme', outcome: 'invalid', channel: 'api' })
    expect(first.parsed).toMatchObject({ status: 400, code: 'VALIDATION_FAILED', route: '/v1/ask' })
    expect(first.parsed.argsHash).toMatch(/^[0-9a-f]{64}$/)
    expect(first.parsed.argsHash).not.toBe(second.parsed.argsHash)
  })

  it.each([
    ['/odata/prescriptions?$filter=1', 400, 'BAD_REQUEST'],
    ['/odata/prescriptions?$orderby=,', 400, 'BAD_REQUEST'],
    ['/odata/no_such_set', 404, 'NOT_FOUND'],
    ['/odata/prescriptions?$expand=hcp', 501, 'NOT_IMPLEMENTED'],
  ])('audits the OData refusal %s', async (path, status, code) => {
    const { res, id } = await send(path, { key: viewerKey })
    expect(res.status).toBe(status)
    const record = await onlyRecord(id)
    expect(record).toMatchObject({ tenant: 'acme', outcome: 'invalid', channel: 'odata' })
    expect(record.parsed).toMatchObject({ status, code })
  })

  it('audits an MCP request from a foreign Origin in the key’s tenant', async () => {
    const { res, id } = await send('/mcp', {
      method: 'POST',
      key: viewerKey,
      headers: { ...mcpHeaders, origin: 'https://evil.example' },
      body: JSON.stringify(mcpInit),
    })
    expect(res.status).toBe(403)
    const record = await onlyRecord(id)
    expect(record).toMatchObject({
      tenant: 'acme',
      outcome: 'denied',
      channel: 'mcp',
      credential_id: viewerKeyId,
    })
    expect(record.parsed).toMatchObject({ status: 403, code: 'FORBIDDEN' })
  })

  it('audits an oversized body refused before authentication, in the tenant of the key', async () => {
    const { res, id } = await send('/v1/ask', {
      method: 'POST',
      key: adminKey,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ question: 'x'.repeat(10_000) }),
    })
    expect(res.status).toBe(413)
    const record = await onlyRecord(id)
    expect(record).toMatchObject({ tenant: 'acme', outcome: 'invalid' })
    expect(record.parsed).toMatchObject({ status: 413, code: 'PAYLOAD_TOO_LARGE' })
  })

  it('audits an unknown /v1 route called with a valid key', async () => {
    const { res, id } = await send('/v1/nope', { key: viewerKey })
    expect(res.status).toBe(404)
    expect((await onlyRecord(id)).parsed).toMatchObject({ status: 404, code: 'NOT_FOUND' })
  })
})

describe('refusals of an invalid credential', () => {
  it('audits an oversized body and a foreign MCP Origin carrying a forged key in the hub chain', async () => {
    const big = await send('/v1/ask', {
      method: 'POST',
      key: FORGED,
      headers: { 'content-type': 'application/json' },
      body: 'x'.repeat(10_000),
    })
    expect(big.res.status).toBe(413)
    expect(await onlyRecord(big.id)).toMatchObject({
      tenant: '_hub',
      outcome: 'invalid',
      credential_id: '0'.repeat(16),
    })
    const mcp = await send('/mcp', {
      method: 'POST',
      key: FORGED,
      headers: { ...mcpHeaders, origin: 'https://evil.example' },
      body: JSON.stringify(mcpInit),
    })
    expect(mcp.res.status).toBe(403)
    const record = await onlyRecord(mcp.id)
    expect(record).toMatchObject({ tenant: '_hub', outcome: 'denied' })
    expect(record.parsed).toMatchObject({ credential: 'unknown_key' })
  })
})

describe('no refusal is audited twice, and none without a credential', () => {
  it('keeps the single auth.failed record of a bad key', async () => {
    const { res, id } = await send('/v1/me', { key: FORGED })
    expect(res.status).toBe(401)
    expect(await onlyRecord(id)).toMatchObject({ action: 'auth.failed' })
  })

  it('keeps the single data.ask record of a question the engine refuses', async () => {
    const { res, id } = await send('/v1/ask', {
      method: 'POST',
      key: viewerKey,
      json: { question: 'delete all hcps' },
    })
    expect(res.status).toBeGreaterThanOrEqual(400)
    expect(res.status).toBeLessThan(500)
    expect(await onlyRecord(id)).toMatchObject({ action: 'data.ask', outcome: 'denied' })
  })

  it('keeps the single record of a revoke of another tenant’s key', async () => {
    const other = await createApiKey(hub.services.metadata, { tenant: 'globex', role: 'viewer' })
    const { res, id } = await send(`/v1/admin/keys/${other.id}`, { method: 'DELETE', key: adminKey })
    expect(res.status).toBe(404)
    expect(await rows(id)).toHaveLength(1)
  })

  it('records nothing for a request without any credential', async () => {
    const { res, id } = await send('/v1/ask', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: 'x'.repeat(10_000),
    })
    expect(res.status).toBe(413)
    expect(await rows(id)).toHaveLength(0)
  })
})

describe('rate-limited keys', () => {
  let limited: TestHub

  beforeAll(async () => {
    limited = await createTestHub({
      env: { HUB_RATE_LIMIT: '2', HUB_RATE_LIMIT_ANON: '2', HUB_RATE_LIMIT_WINDOW: '1' },
    })
  }, 120_000)

  type Row = AuditRow & { request_id: string }
  const counted = (found: Row[]) =>
    found.reduce((n, e) => n + Number((JSON.parse(e.detail ?? '{}') as { count?: number }).count ?? 1), 0)
  /** The window's event is written when the window ends (1 s here): poll for it, bounded. */
  async function settle(read: () => Promise<Row[]>, expected: number): Promise<Row[]> {
    let found = await read()
    for (let i = 0; i < 40 && counted(found) < expected; i++) {
      await new Promise((r) => setTimeout(r, 100))
      found = await read()
    }
    return found
  }

  it('counts oversized bodies sent with a forged key beyond the per-IP budget into one event per window', async () => {
    const forged = `nl2q_${'e'.repeat(16)}_${'y'.repeat(43)}`
    const ids: string[] = []
    for (let i = 0; i < 30; i++) {
      const id = `big-${i}-${randomUUID()}`
      const res = await limited.app.request(
        '/v1/ask',
        {
          method: 'POST',
          headers: {
            authorization: `Bearer ${forged}`,
            'x-request-id': id,
            'content-type': 'application/json',
          },
          body: 'x'.repeat(2_000_000),
        },
        { incoming: { socket: { remoteAddress: '198.51.100.98' } } },
      )
      expect(res.status).toBe(413)
      ids.push(id)
    }
    const read = async () =>
      (await limited.services.metadata
        .knex('audit_events')
        .where({ credential_id: 'e'.repeat(16), action: 'request.refused' })
        .orderBy('seq')) as Row[]
    const events = await settle(read, ids.length)
    expect(counted(events)).toBe(ids.length)
    // two within the budget, then at most one counted event per window
    expect(events.length).toBeLessThanOrEqual(2 + 3)
    expect(events[0]?.request_id).toBe(ids[0])
  })

  it('counts the failed attempts of a forged key beyond the per-IP budget into one event per window', async () => {
    const forged = `nl2q_${'f'.repeat(16)}_${'y'.repeat(43)}`
    const limitedIds: string[] = []
    for (let i = 0; i < 40; i++) {
      const id = `forged-${i}-${randomUUID()}`
      const res = await limited.app.request(
        '/v1/me',
        { headers: { authorization: `Bearer ${forged}`, 'x-request-id': id } },
        { incoming: { socket: { remoteAddress: '198.51.100.99' } } },
      )
      if (res.status === 429) limitedIds.push(id)
    }
    expect(limitedIds.length).toBeGreaterThan(20)
    const read = async () =>
      (await limited.services.metadata
        .knex('audit_events')
        .where({ credential_id: 'f'.repeat(16), action: 'auth.failed' })
        .whereNotNull('detail')
        .andWhere('detail', 'like', '%rateLimited%')
        .orderBy('seq')) as Row[]
    const events = await settle(read, limitedIds.length)
    expect(events.length).toBeLessThanOrEqual(3)
    expect(counted(events)).toBe(limitedIds.length)
    expect(events[0]?.request_id).toBe(limitedIds[0])
  })
  afterAll(async () => limited?.close())

  it('writes one event per credential and window carrying the count of 429s, found by the first request id', async () => {
    const key = await createApiKey(limited.services.metadata, { tenant: 'acme', role: 'viewer' })
    const ids: string[] = []
    const statuses: number[] = []
    // Up to 3 windows may pass while sending; the counted ids are those inside the first flood window.
    for (let i = 0; i < 40; i++) {
      const id = `flood-${i}-${randomUUID()}`
      const res = await limited.app.request('/v1/me', {
        headers: { authorization: `Bearer ${key.secret}`, 'x-request-id': id },
      })
      statuses.push(res.status)
      if (res.status === 429) ids.push(id)
    }
    expect(ids.length).toBeGreaterThan(20)
    const read = async () =>
      (await limited.services.metadata
        .knex('audit_events')
        .where({ credential_id: key.id, action: 'request.refused' })
        .orderBy('seq')) as Row[]
    const events = await settle(read, ids.length)
    expect(events.length).toBeGreaterThanOrEqual(1)
    expect(events.length).toBeLessThanOrEqual(3)
    expect(counted(events)).toBe(ids.length)
    expect(events[0]).toMatchObject({ request_id: ids[0], outcome: 'denied', tenant: 'acme' })
    expect(JSON.parse(events[0]?.detail ?? '{}')).toMatchObject({ status: 429, code: 'RATE_LIMITED' })
  })
})
