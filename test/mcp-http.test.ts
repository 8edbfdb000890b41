import {
  type Client,
  connectHttp,
  createKey,
  type DemoHub,
  postMcp,
  REVISIONS,
  serveOnLoopback,
  signJwt,
  startDemoHub,
} from '@nl2q/mcp-server/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { argumentsHash } from '../packages/mcp-server/src/tools/call.ts'

// The hub's public URL is https://hub.test; the tests reach it on 127.0.0.1 (a local host name).
const SECRET = 'mcp-test-secret-0123456789abcdef0123456789'
const ISSUER = 'https://issuer.test'
const AUDIENCE = 'https://hub.test/mcp'
const PRM_URL = 'https://hub.test/.well-known/oauth-protected-resource/mcp'

let hub: DemoHub
let server: { url: string; close(): Promise<void> }
let viewerKey: string
let analystKey: string
const clients: Client[] = []

async function client(token: string, revision: (typeof REVISIONS)[number]): Promise<Client> {
  const c = await connectHttp(server.url, token, revision)
  clients.push(c)
  return c
}

const jwt = (claims: Record<string, unknown>, options: { audience?: string; expiresIn?: number } = {}) =>
  signJwt(SECRET, claims, {
    issuer: ISSUER,
    audience: options.audience ?? AUDIENCE,
    ...(options.expiresIn !== undefined ? { expiresIn: options.expiresIn } : {}),
  })

const toolsList = { jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }
const initialize = (protocolVersion: string) => ({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion, capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
})

beforeAll(async () => {
  hub = await startDemoHub({
    HUB_PUBLIC_URL: 'https://hub.test',
    HUB_JWT_SECRET: SECRET,
    HUB_JWT_ISSUER: ISSUER,
    HUB_JWT_AUDIENCE: AUDIENCE,
    HUB_CORS_ORIGINS: 'https://app.test',
    HUB_MCP_ALLOWED_HOSTS: 'mcp.internal',
  })
  server = await serveOnLoopback(hub.running.app)
  viewerKey = (await createKey(hub.running.app, hub.keys.acme!, 'viewer')).secret
  analystKey = (await createKey(hub.running.app, hub.keys.acme!, 'analyst')).secret
})

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close().catch(() => undefined)))
  await server?.close()
  await hub?.close()
})

describe.each(REVISIONS)('MCP over Streamable HTTP, protocol %s', (revision) => {
  it('lists the tools in a fixed order with strict input schemas, output schemas and read-only hints', async () => {
    const c = await client(hub.keys.acme!, revision)
    const { tools } = await c.listTools()
    expect(tools.map((t) => t.name)).toEqual(['ask', 'list_datasets', 'describe_dataset', 'run_sql'])
    for (const tool of tools) {
      expect(tool.inputSchema.additionalProperties).toBe(false)
      expect(tool.outputSchema?.type).toBe('object')
      expect(tool.annotations).toMatchObject({
        readOnlyHint: true,
        destructiveHint: false,
        openWorldHint: false,
      })
      expect(tool.description?.length).toBeGreaterThan(80)
    }
  })

  it('answers a question with columns, rows, the interpretation and the same JSON as text', async () => {
    const c = await client(hub.keys.acme!, revision)
    const result = await c.callTool({
      name: 'ask',
      arguments: { question: 'Total TRx by product in 2024' },
    })
    expect(result.isError).toBeFalsy()
    const structured = result.structuredContent as Record<string, unknown>
    expect(structured.interpretation).toMatch(/TRx/)
    expect(structured.columns).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: 'trx', type: 'integer' })]),
    )
    expect((structured.rows as unknown[]).length).toBeGreaterThan(1)
    expect(structured.truncated).toBe(false)
    const text = (result.content as { type: string; text: string }[])[0]!
    expect(JSON.parse(text.text)).toEqual(structured)
  })

  it('hides run_sql from a viewer and refuses it when called anyway', async () => {
    const c = await client(viewerKey, revision)
    const { tools } = await c.listTools()
    expect(tools.map((t) => t.name)).toEqual(['ask', 'list_datasets', 'describe_dataset'])
    await expect(c.callTool({ name: 'run_sql', arguments: { sql: 'SELECT 1' } })).rejects.toMatchObject({
      code: -32602,
    })
  })

  it('lists datasets and describes one with measures, dimensions, synonyms and examples', async () => {
    const c = await client(viewerKey, revision)
    const list = (await c.callTool({ name: 'list_datasets', arguments: {} })).structuredContent as {
      datasets: { name: string; measures: string[] }[]
    }
    expect(list.datasets.map((d) => d.name)).toContain('prescriptions')
    const described = await c.callTool({ name: 'describe_dataset', arguments: { name: 'prescriptions' } })
    const dataset = described.structuredContent as {
      measures: { name: string; synonyms: string[] }[]
      examples: string[]
    }
    expect(dataset.measures.map((m) => m.name)).toContain('trx')
    expect(dataset.examples.length).toBeGreaterThan(0)
  })

  it('serves dataset schemas as resources and teaches questions through prompts', async () => {
    const c = await client(viewerKey, revision)
    const { resources } = await c.listResources()
    expect(resources.map((r) => r.uri)).toContain('nl2q://datasets/prescriptions')
    const { resourceTemplates } = await c.listResourceTemplates()
    expect(resourceTemplates.map((t) => t.uriTemplate)).toEqual(['nl2q://datasets/{name}'])
    const read = await c.readResource({ uri: 'nl2q://datasets/prescriptions' })
    const content = read.contents[0] as { mimeType: string; text: string }
    expect(content.mimeType).toBe('application/json')
    expect(JSON.parse(content.text).name).toBe('prescriptions')
    const { prompts } = await c.listPrompts()
    expect(prompts.map((p) => p.name)).toEqual(['ask_good_questions', 'explore_dataset'])
    const prompt = await c.getPrompt({ name: 'explore_dataset', arguments: { dataset: 'prescriptions' } })
    expect(JSON.stringify(prompt.messages)).toMatch(/trx/i)
  })

  it('reports progress when the client sends a progress token', async () => {
    const c = await client(hub.keys.acme!, revision)
    const progress: { progress: number; message?: string }[] = []
    const result = await c.callTool(
      { name: 'ask', arguments: { question: 'Total NRx by payer type' } },
      { onprogress: (p) => progress.push(p) },
    )
    expect(result.isError).toBeFalsy()
    expect(progress.length).toBeGreaterThanOrEqual(2)
    expect(progress.at(-1)?.progress).toBe(2)
  })
})

describe('tool errors an assistant can act on', () => {
  it('returns a refusal with its code, the suggestions and how to fix the call', async () => {
    const c = await client(hub.keys.acme!, '2025-11-25')
    const unanswerable = await c.callTool({
      name: 'ask',
      arguments: { question: 'What is the meaning of life?' },
    })
    expect(unanswerable.isError).toBe(true)
    const text = (unanswerable.content as { text: string }[])[0]!.text
    expect(text).toMatch(/^UNANSWERABLE: /)
    expect(text).toMatch(/Suggestions: .+/)
    expect(text).toMatch(/How to fix: /)

    const readOnly = await c.callTool({ name: 'ask', arguments: { question: 'delete all prescriptions' } })
    expect((readOnly.content as { text: string }[])[0]!.text).toMatch(/^READ_ONLY: /)

    const missing = await c.callTool({ name: 'describe_dataset', arguments: { name: 'prescription' } })
    expect(missing.isError).toBe(true)
    expect((missing.content as { text: string }[])[0]!.text).toMatch(/Suggestions: .*prescriptions/)
  })

  it('rejects unknown arguments (no tool argument can name a tenant) and unknown tools', async () => {
    const c = await client(hub.keys.acme!, '2025-11-25')
    const extra = await c.callTool({
      name: 'ask',
      arguments: { question: 'Total TRx', tenant: 'globex' },
    })
    expect(extra.isError).toBe(true)
    expect((extra.content as { text: string }[])[0]!.text).toMatch(/tenant/)
    await expect(c.callTool({ name: 'drop_table', arguments: {} })).rejects.toMatchObject({ code: -32602 })
  })

  it('caps rows and says the answer is truncated', async () => {
    const c = await client(hub.keys.acme!, '2026-07-28')
    const result = await c.callTool({ name: 'ask', arguments: { question: 'List the HCPs', limit: 3 } })
    const structured = result.structuredContent as {
      rows: unknown[]
      truncated: boolean
      truncatedBy: string
    }
    expect(structured.rows).toHaveLength(3)
    expect(structured.truncated).toBe(true)
    expect(structured.truncatedBy).toBe('row_limit')
  })
})

describe('tenant isolation', () => {
  it('never shows an acme credential globex rows, nor globex acme rows', async () => {
    for (const [tenant, own, other] of [
      ['acme', 'ACM-', 'GLX-'],
      ['globex', 'GLX-', 'ACM-'],
    ] as const) {
      const c = await client(hub.keys[tenant]!, '2025-11-25')
      const asked = await c.callTool({ name: 'ask', arguments: { question: 'List the HCPs', limit: 50 } })
      const sql = await c.callTool({
        name: 'run_sql',
        arguments: {
          sql: 'SELECT h.hcp_id, h.territory_id, p.product_id, p.trx FROM hcps h JOIN prescriptions p ON p.hcp_id = h.hcp_id',
        },
      })
      for (const result of [asked, sql]) {
        const { rows, columns } = result.structuredContent as {
          rows: string[][]
          columns: { name: string }[]
        }
        const ids = columns.flatMap((col, i) => (col.name.endsWith('_id') ? [i] : []))
        expect(rows.length).toBeGreaterThan(0)
        expect(ids.length).toBeGreaterThan(0)
        for (const row of rows) for (const i of ids) expect(String(row[i]).startsWith(own)).toBe(true)
        expect(JSON.stringify(result.content)).not.toContain(other)
      }
    }
  })
})

describe('guarded SQL through run_sql', () => {
  const bypasses = [
    'SELECT 1; COMMIT;',
    'SELECT /*! 1 */ 1 FROM hcps',
    'WITH d AS (DELETE FROM hcps RETURNING *) SELECT * FROM d',
    "SELECT * FROM hcps INTO OUTFILE '/tmp/nl2q-mcp-outfile'",
    "REPLACE INTO products (product_id, product_name) VALUES ('ACM-P999', 'x')",
    'CALL refresh_everything()',
    "SET @x = 'y'",
    'LOCK TABLES hcps WRITE',
    "GRANT ALL ON *.* TO 'mallory'",
    'SELECT * FROM hcps FOR UPDATE',
    'SELECT * FROM globex.hcps',
  ]

  it('refuses every known bypass with SQL_REJECTED and leaves the data untouched', async () => {
    const c = await client(analystKey, '2025-11-25')
    const count = async () => {
      const r = await c.callTool({
        name: 'run_sql',
        arguments: { sql: 'SELECT (SELECT COUNT(*) FROM hcps) AS h, (SELECT COUNT(*) FROM products) AS p' },
      })
      return (r.structuredContent as { rows: unknown[][] }).rows[0]
    }
    const before = await count()
    for (const sql of bypasses) {
      const result = await c.callTool({ name: 'run_sql', arguments: { sql } })
      expect(result.isError, sql).toBe(true)
      expect((result.content as { text: string }[])[0]!.text, sql).toMatch(/^SQL_REJECTED: /)
    }
    expect(await count()).toEqual(before)
  })
})

describe('audit', () => {
  /** The acme audit trail's latest events of `action`, as its admin reads them. */
  const read = async (action: string) => {
    const res = await hub.running.app.request(`/v1/audit?action=${action}&limit=50`, {
      headers: { authorization: `Bearer ${hub.keys.acme}` },
    })
    expect(res.status).toBe(200)
    return ((await res.json()) as { items: Record<string, unknown>[] }).items
  }

  it('records MCP calls on the caller tenant with channel mcp', async () => {
    const c = await client(hub.keys.acme!, '2025-11-25')
    await c.callTool({ name: 'list_datasets', arguments: {} })
    await c.callTool({ name: 'ask', arguments: { question: 'Total TRx by payer type' } })
    const tools = await read('mcp.tool')
    expect(tools.find((e) => e.resource === 'list_datasets')).toMatchObject({
      channel: 'mcp',
      outcome: 'success',
      detail: expect.objectContaining({ tool: 'list_datasets', argumentsHash: expect.any(String) }),
    })
    const asks = await read('data.ask')
    expect(asks.some((e) => e.channel === 'mcp' && e.outcome === 'success' && e.rowCount)).toBe(true)
  })

  it('records calls the SDK refuses before a tool runs: a hidden tool, invalid arguments', async () => {
    const c = await client(viewerKey, '2025-11-25')
    const sql = { sql: 'SELECT hcp_id FROM hcps' }
    await expect(c.callTool({ name: 'run_sql', arguments: sql })).rejects.toMatchObject({ code: -32602 })
    const invalid = await c.callTool({ name: 'describe_dataset', arguments: { name: 42 } })
    expect(invalid.isError).toBe(true)
    const items = await read('mcp.tool')
    expect(items.find((e) => e.resource === 'run_sql')).toMatchObject({
      channel: 'mcp',
      outcome: 'denied',
      detail: { tool: 'run_sql', argumentsHash: argumentsHash(sql), code: 'NOT_FOUND' },
    })
    expect(items.find((e) => e.resource === 'describe_dataset')).toMatchObject({
      outcome: 'denied',
      detail: { tool: 'describe_dataset', argumentsHash: argumentsHash({ name: 42 }), code: 'BAD_REQUEST' },
    })
    // A call that reached its tool is recorded once, by the tool.
    await c.callTool({ name: 'describe_dataset', arguments: { name: 'nope' } })
    const nope = (await read('mcp.tool')).filter(
      (e) => (e.detail as { argumentsHash?: string })?.argumentsHash === argumentsHash({ name: 'nope' }),
    )
    expect(nope).toHaveLength(1)
  })
})

describe('HTTP security of /mcp', () => {
  it('publishes protected-resource metadata at both well-known paths', async () => {
    for (const path of [
      '/.well-known/oauth-protected-resource',
      '/.well-known/oauth-protected-resource/mcp',
    ]) {
      const res = await fetch(`${server.url}${path}`)
      expect(res.status).toBe(200)
      expect(await res.json()).toEqual({
        resource: 'https://hub.test/mcp',
        authorization_servers: [ISSUER],
        scopes_supported: ['mcp'],
        bearer_methods_supported: ['header'],
        resource_name: 'NL2Q Hub',
      })
    }
  })

  it('challenges a request without a token with the resource metadata URL', async () => {
    const res = await postMcp(server.url, toolsList)
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toBe(`Bearer resource_metadata="${PRM_URL}"`)
  })

  it('answers invalid, expired and wrong-audience tokens with invalid_token', async () => {
    const tokens = [
      'nl2q_not-a-real-key',
      await jwt({ tenant: 'acme', roles: ['viewer'], scope: 'mcp' }, { expiresIn: -600 }),
      await jwt({ tenant: 'acme', roles: ['viewer'], scope: 'mcp' }, { audience: 'https://other.test' }),
    ]
    for (const token of tokens) {
      const res = await postMcp(server.url, toolsList, { authorization: `Bearer ${token}` })
      expect(res.status).toBe(401)
      const challenge = res.headers.get('www-authenticate') ?? ''
      expect(challenge).toMatch(/^Bearer /)
      expect(challenge).toContain('error="invalid_token"')
      expect(challenge).toContain(`resource_metadata="${PRM_URL}"`)
    }
  })

  it('answers a valid JWT without the mcp scope with 403 insufficient_scope', async () => {
    const token = await jwt({ tenant: 'acme', roles: ['viewer'], scope: 'openid profile' })
    const res = await postMcp(server.url, toolsList, { authorization: `Bearer ${token}` })
    expect(res.status).toBe(403)
    expect(res.headers.get('www-authenticate')).toBe(
      `Bearer error="insufficient_scope", scope="mcp", resource_metadata="${PRM_URL}"`,
    )
  })

  it('serves a JWT with the mcp scope as its own tenant and role', async () => {
    const token = await jwt({ tenant: 'globex', roles: ['viewer'], scope: 'openid mcp' })
    const c = await client(token, '2026-07-28')
    expect((await c.listTools()).tools.map((t) => t.name)).not.toContain('run_sql')
    const result = await c.callTool({ name: 'ask', arguments: { question: 'List the HCPs', limit: 5 } })
    for (const row of (result.structuredContent as { rows: string[][] }).rows)
      expect(row[0]!.startsWith('GLX-')).toBe(true)
  })

  it('refuses a token in the query string', async () => {
    const res = await postMcp(server.url, toolsList, {}, { path: `/mcp?access_token=${hub.keys.acme}` })
    expect(res.status).toBe(401)
  })

  it('answers GET and DELETE with 405 and never issues a session id', async () => {
    const auth = { authorization: `Bearer ${hub.keys.acme}` }
    for (const method of ['GET', 'DELETE']) {
      const res = await postMcp(server.url, null, { ...auth, accept: 'text/event-stream' }, { method })
      expect(res.status, method).toBe(405)
    }
    const res = await postMcp(server.url, initialize('2025-11-25'), auth)
    expect(res.status).toBe(200)
    expect(res.headers.get('mcp-session-id')).toBeNull()
  })

  it('answers 406 when the client does not accept both JSON and SSE', async () => {
    const res = await postMcp(server.url, toolsList, {
      authorization: `Bearer ${hub.keys.acme}`,
      accept: 'application/json',
    })
    expect(res.status).toBe(406)
  })

  it('answers 400 for an unsupported MCP-Protocol-Version', async () => {
    const res = await postMcp(server.url, toolsList, {
      authorization: `Bearer ${hub.keys.acme}`,
      'mcp-protocol-version': '1999-01-01',
    })
    expect(res.status).toBe(400)
  })

  it('negotiates: initialize asking for 2026-07-28 is answered with 2025-11-25', async () => {
    const res = await postMcp(server.url, initialize('2026-07-28'), {
      authorization: `Bearer ${hub.keys.acme}`,
    })
    expect(res.messages[0]).toMatchObject({ result: { protocolVersion: '2025-11-25' } })
  })

  it('answers server/discover and per-request _meta calls of a 2026-07-28 client without a handshake', async () => {
    const meta = {
      'io.modelcontextprotocol/protocolVersion': '2026-07-28',
      'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1' },
      'io.modelcontextprotocol/clientCapabilities': {},
    }
    const headers = { authorization: `Bearer ${hub.keys.acme}`, 'mcp-protocol-version': '2026-07-28' }
    const discover = await postMcp(
      server.url,
      { jsonrpc: '2.0', id: 1, method: 'server/discover', params: { _meta: meta } },
      { ...headers, 'mcp-method': 'server/discover' },
    )
    expect(discover.status).toBe(200)
    expect(discover.messages[0]).toMatchObject({ result: { supportedVersions: ['2026-07-28'] } })
    const listed = await postMcp(
      server.url,
      { jsonrpc: '2.0', id: 2, method: 'tools/list', params: { _meta: meta } },
      { ...headers, 'mcp-method': 'tools/list' },
    )
    const tools = (listed.messages[0] as { result: { tools: { name: string }[] } }).result.tools
    expect(tools.map((t) => t.name)).toEqual(['ask', 'list_datasets', 'describe_dataset', 'run_sql'])
  })

  it('rejects a foreign Host and a foreign Origin with 403, before authentication', async () => {
    const auth = { authorization: `Bearer ${hub.keys.acme}` }
    const host = await postMcp(server.url, toolsList, { ...auth, host: 'evil.test' })
    expect(host.status).toBe(403)
    const origin = await postMcp(server.url, toolsList, { ...auth, origin: 'https://evil.test' })
    expect(origin.status).toBe(403)
    const anonymous = await postMcp(server.url, toolsList, { host: 'evil.test' })
    expect(anonymous.status).toBe(403)
    const prm = await postMcp(
      server.url,
      null,
      { host: 'evil.test' },
      {
        method: 'GET',
        path: '/.well-known/oauth-protected-resource/mcp',
      },
    )
    expect(prm.status).toBe(403)
  })

  it('accepts the configured hosts and origins, and requests without an Origin', async () => {
    const auth = { authorization: `Bearer ${hub.keys.acme}` }
    const accepted: Record<string, string>[] = [
      { host: 'hub.test' },
      { host: 'mcp.internal:8443' },
      { host: 'localhost' },
      { origin: 'https://app.test' },
      { origin: 'https://hub.test' },
      {},
    ]
    for (const headers of accepted) {
      const res = await postMcp(server.url, initialize('2025-11-25'), { ...auth, ...headers })
      expect(res.status, JSON.stringify(headers)).toBe(200)
    }
  })
})
