/**
 * Test harness for the MCP connector (`@nl2q/mcp-server/testing`): a real demo hub with this
 * connector mounted, served on loopback, and real MCP clients (the SDK's) for both protocol
 * revisions. Used by the package's tests and the end-to-end tests in /test.
 */
import { mkdtempSync } from 'node:fs'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type ServerType, serve } from '@hono/node-server'
import { Client, StreamableHTTPClientTransport, type Transport } from '@modelcontextprotocol/client'
import { createHubApp, loadConfig, type RunningHub } from '@nl2q/core'
import { SignJWT } from 'jose'
import pino from 'pino'
import { createMcpConnector } from './connector.ts'

export { Client, InMemoryTransport, ProtocolError } from '@modelcontextprotocol/client'
export { StdioClientTransport } from '@modelcontextprotocol/client/stdio'

export type Revision = '2025-11-25' | '2026-07-28'
export const REVISIONS: Revision[] = ['2025-11-25', '2026-07-28']

export interface DemoHub {
  running: RunningHub
  home: string
  env: Record<string, string>
  /** Demo admin keys by tenant (acme, globex). */
  keys: Record<string, string>
  close(): Promise<void>
}

/** A demo hub (tenants acme and globex) with the MCP connector, in a temporary HUB_HOME unless given. */
export async function startDemoHub(env: Record<string, string> = {}): Promise<DemoHub> {
  const home = env.HUB_HOME ?? mkdtempSync(join(tmpdir(), 'nl2q-mcp-'))
  const full = { HUB_DEMO: '1', HUB_LOG_LEVEL: 'silent', ...env, HUB_HOME: home }
  const running = await createHubApp(loadConfig(full), {
    connectors: [createMcpConnector()],
    env: full,
    logger: pino({ level: full.HUB_LOG_LEVEL }, pino.destination(2)),
  })
  const keys = Object.fromEntries(running.demoKeys.map((k) => [k.tenant, k.secret]))
  return { running, home, env: full, keys, close: () => running.close() }
}

/** Serve an app on 127.0.0.1 (an ephemeral port). */
export async function serveOnLoopback(
  app: RunningHub['app'],
): Promise<{ url: string; port: number; close(): Promise<void> }> {
  const server = await new Promise<ServerType>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s))
  })
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : 0
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        if ('closeAllConnections' in server) server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/** Create an API key in the admin's tenant through the hub's own admin API. */
export async function createKey(
  app: RunningHub['app'],
  adminKey: string,
  role: 'admin' | 'analyst' | 'viewer' | 'integration',
  attributes: Record<string, string[]> = {},
): Promise<{ id: string; secret: string }> {
  const res = await app.request('/v1/admin/keys', {
    method: 'POST',
    headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ role, attributes, label: `mcp test ${role}` }),
  })
  if (res.status !== 201) throw new Error(`key create failed: ${res.status} ${await res.text()}`)
  const { id, secret } = (await res.json()) as { id: string; secret: string }
  return { id, secret }
}

/** Revoke an API key through the hub's own admin API. */
export async function revokeKey(app: RunningHub['app'], adminKey: string, id: string): Promise<void> {
  const res = await app.request(`/v1/admin/keys/${id}`, {
    method: 'DELETE',
    headers: { authorization: `Bearer ${adminKey}` },
  })
  if (!res.ok) throw new Error(`key revoke failed: ${res.status} ${await res.text()}`)
}

/** Connect the SDK client to a transport, speaking the given protocol revision. */
export async function connectClient(transport: Transport, revision: Revision): Promise<Client> {
  const client = new Client(
    { name: 'nl2q-test-client', version: '1.0.0' },
    revision === '2026-07-28' ? { versionNegotiation: { mode: { pin: '2026-07-28' } } } : {},
  )
  await client.connect(transport)
  return client
}

/** The SDK's Streamable HTTP client against `<base>/mcp` with a bearer token. */
export function connectHttp(base: string, token: string, revision: Revision): Promise<Client> {
  const transport = new StreamableHTTPClientTransport(new URL('/mcp', base), {
    requestInit: { headers: { authorization: `Bearer ${token}` } },
  })
  return connectClient(transport, revision)
}

/** A JWT from the test issuer (HS256 with the hub's HUB_JWT_SECRET). */
export function signJwt(
  secret: string,
  claims: Record<string, unknown>,
  options: { issuer: string; audience: string; expiresIn?: string | number; subject?: string },
): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer(options.issuer)
    .setAudience(options.audience)
    .setSubject(options.subject ?? 'user-1')
    .setIssuedAt()
    .setExpirationTime(options.expiresIn ?? '5m')
    .sign(new TextEncoder().encode(secret))
}

export interface RawResponse {
  status: number
  headers: Headers
  /** The JSON-RPC messages of the response (a JSON body or the data lines of an SSE stream). */
  messages: Record<string, unknown>[]
  text: string
}

/**
 * Send one raw JSON-RPC message to /mcp over node:http (which, unlike fetch, lets a test set any
 * Host or Origin header) and parse the JSON or SSE answer.
 */
export function postMcp(
  base: string,
  message: unknown,
  headers: Record<string, string> = {},
  options: { method?: string; path?: string } = {},
): Promise<RawResponse> {
  const method = options.method ?? 'POST'
  const url = new URL(options.path ?? '/mcp', base)
  const body = method === 'POST' ? JSON.stringify(message) : undefined
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method,
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          ...headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('error', reject)
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8')
          const responseHeaders = new Headers()
          for (const [k, v] of Object.entries(res.headers)) {
            if (v !== undefined) responseHeaders.set(k, Array.isArray(v) ? v.join(', ') : v)
          }
          resolve({
            status: res.statusCode ?? 0,
            headers: responseHeaders,
            messages: parseMessages(text, responseHeaders),
            text,
          })
        })
      },
    )
    req.on('error', reject)
    req.end(body)
  })
}

function parseMessages(text: string, headers: Headers): Record<string, unknown>[] {
  const type = headers.get('content-type') ?? ''
  if (type.includes('text/event-stream')) {
    return text
      .split('\n')
      .filter((l) => l.startsWith('data:') && l.slice(5).trim())
      .map((l) => JSON.parse(l.slice(5)) as Record<string, unknown>)
  }
  if (text && type.includes('json')) {
    const body = JSON.parse(text) as unknown
    return (Array.isArray(body) ? body : [body]) as Record<string, unknown>[]
  }
  return []
}
