import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { mkdtempSync, realpathSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { promisify } from 'node:util'
import { serveHubOverStdio, serveRemoteOverStdio } from '@nl2q/mcp-server'
import {
  type Client,
  connectClient,
  createKey,
  InMemoryTransport,
  REVISIONS,
  type Revision,
  revokeKey,
  StdioClientTransport,
  serveOnLoopback,
  startDemoHub,
} from '@nl2q/mcp-server/testing'
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const ROOT = resolve(import.meta.dirname, '..')
const TSX = join(ROOT, 'node_modules/.bin/tsx')
const STDIO = join(ROOT, 'packages/mcp-server/src/stdio.ts')
const run = promisify(execFile)

const home = mkdtempSync(join(tmpdir(), 'nl2q-mcp-stdio-'))
const base = { HUB_HOME: home, HUB_DEMO: '1', HUB_LOG_LEVEL: 'warn' }
const keyFileEnv = { ...base, NL2Q_TENANT: 'acme', NL2Q_KEY_FILE: join(home, 'acme.key') }
type Handle = Awaited<ReturnType<typeof serveHubOverStdio>>
const open: { close(): Promise<void> }[] = []

/** The stdio server in-process: serveHubOverStdio on one end of an in-memory pipe, the SDK client on the other. */
async function inProcess(
  env: Record<string, string>,
  revision: Revision,
): Promise<{ handle: Handle; client: Client }> {
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair()
  const handle = await serveHubOverStdio({ env, transport: serverSide })
  open.push(handle)
  const client = await connectClient(clientSide, revision)
  open.push(client)
  return { handle, client }
}

let admin: Handle

beforeAll(async () => {
  admin = (await inProcess(keyFileEnv, '2025-11-25')).handle
})

afterAll(async () => {
  for (const o of open.reverse()) await o.close().catch(() => undefined)
})

const text = (r: { content?: unknown }) => ((r.content ?? []) as { text: string }[])[0]?.text ?? ''

describe.each(REVISIONS)('stdio server in-process, protocol %s', (revision) => {
  it('serves the tenant of the key file with every tool', async () => {
    const { handle, client } = await inProcess(keyFileEnv, revision)
    expect(handle.principal.tenant).toBe('acme')
    expect((await client.listTools()).tools.map((t) => t.name)).toEqual([
      'ask',
      'list_datasets',
      'describe_dataset',
      'run_sql',
    ])
    const answer = await client.callTool({ name: 'ask', arguments: { question: 'List the HCPs', limit: 5 } })
    for (const row of (answer.structuredContent as { rows: string[][] }).rows)
      expect(row[0]!.startsWith('ACM-')).toBe(true)
    const sql = await client.callTool({ name: 'run_sql', arguments: { sql: 'SELECT hcp_id FROM hcps' } })
    expect(sql.isError).toBeFalsy()
  })
})

describe('stdio credentials', () => {
  it('refuses to start with a key file of another tenant, a bad key or no credential', async () => {
    await expect(
      serveHubOverStdio({
        env: { ...keyFileEnv, NL2Q_TENANT: 'globex' },
        transport: InMemoryTransport.createLinkedPair()[1],
      }),
    ).rejects.toMatchObject({ code: 'FORBIDDEN' })
    await expect(
      serveHubOverStdio({
        env: { ...base, NL2Q_API_KEY: 'nl2q_nope' },
        transport: InMemoryTransport.createLinkedPair()[1],
      }),
    ).rejects.toMatchObject({ code: expect.stringMatching(/^(UNAUTHENTICATED|INVALID_TOKEN)$/) })
    await expect(
      serveHubOverStdio({ env: base, transport: InMemoryTransport.createLinkedPair()[1] }),
    ).rejects.toMatchObject({ code: 'CONFIG_INVALID' })
  })

  it('hides run_sql from a viewer key', async () => {
    const viewer = await createKey(admin.hub.app, adminSecret(), 'viewer')
    const { client } = await inProcess({ ...base, NL2Q_API_KEY: viewer.secret }, '2026-07-28')
    expect((await client.listTools()).tools.map((t) => t.name)).not.toContain('run_sql')
  })

  it('re-verifies the key on every call, so a revoked key stops working at once', async () => {
    const key = await createKey(admin.hub.app, adminSecret(), 'analyst')
    const { client } = await inProcess({ ...base, NL2Q_API_KEY: key.secret }, '2025-11-25')
    expect((await client.callTool({ name: 'list_datasets', arguments: {} })).isError).toBeFalsy()
    await revokeKey(admin.hub.app, adminSecret(), key.id)
    const refused = await client.callTool({ name: 'list_datasets', arguments: {} })
    expect(refused.isError).toBe(true)
    expect(text(refused)).toMatch(/^(UNAUTHENTICATED|INVALID_TOKEN): /)
  })

  it('applies the hub rate limit to every call', async () => {
    const key = await createKey(admin.hub.app, adminSecret(), 'viewer')
    const { client } = await inProcess(
      { ...base, HUB_RATE_LIMIT: '3', NL2Q_API_KEY: key.secret },
      '2025-11-25',
    )
    const outcomes: string[] = []
    for (let i = 0; i < 5; i++) {
      const r = await client.callTool({ name: 'list_datasets', arguments: {} })
      outcomes.push(r.isError ? text(r).split(':')[0]! : 'ok')
    }
    expect(outcomes).toContain('ok')
    expect(outcomes.at(-1)).toBe('RATE_LIMITED')
  })

  it('audits stdio calls on the key tenant with channel mcp', async () => {
    const { client } = await inProcess(keyFileEnv, '2025-11-25')
    await client.callTool({ name: 'describe_dataset', arguments: { name: 'hcps' } })
    const res = await admin.hub.app.request('/v1/audit?action=mcp.tool&limit=20', {
      headers: { authorization: `Bearer ${adminSecret()}` },
    })
    const { items } = (await res.json()) as { items: Record<string, unknown>[] }
    expect(items.find((e) => e.resource === 'describe_dataset')).toMatchObject({
      channel: 'mcp',
      outcome: 'success',
    })
  })
})

function adminSecret(): string {
  return admin.hub.demoKeys.find((k) => k.tenant === 'acme')!.secret
}

describe.each(REVISIONS)('stdio server as a spawned process, protocol %s', (revision) => {
  it('answers the SDK stdio client', async () => {
    const transport = new StdioClientTransport({
      command: TSX,
      args: [STDIO],
      env: { ...process.env, ...keyFileEnv } as Record<string, string>,
      stderr: 'ignore',
    })
    const client = await connectClient(transport, revision)
    open.push(client)
    expect((await client.listTools()).tools.map((t) => t.name)).toContain('ask')
    const answer = await client.callTool({ name: 'ask', arguments: { question: 'Total TRx by payer type' } })
    expect(answer.isError).toBeFalsy()
    await client.close()
  })
})

describe('stdio hygiene', () => {
  it('writes only MCP messages to stdout and its logs to stderr', async () => {
    const child: ChildProcess = spawn(TSX, [STDIO], {
      env: { ...process.env, ...keyFileEnv, HUB_LOG_LEVEL: 'info' },
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    let stderr = ''
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString()
    })
    const lines = createInterface({ input: child.stdout! })
    const received: string[] = []
    const done = new Promise<void>((resolveDone) => {
      lines.on('line', (line) => {
        received.push(line)
        if (received.length === 2) resolveDone()
      })
    })
    const send = (m: unknown) => child.stdin!.write(`${JSON.stringify(m)}\n`)
    send({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
    })
    send({ jsonrpc: '2.0', method: 'notifications/initialized' })
    send({ jsonrpc: '2.0', id: 2, method: 'tools/list' })
    await done
    child.stdin!.end()
    await new Promise((r) => child.once('exit', r))
    for (const line of received) expect(JSON.parse(line)).toMatchObject({ jsonrpc: '2.0' })
    expect(JSON.parse(received[0]!).result.protocolVersion).toBe('2025-11-25')
    expect(stderr).toMatch(/MCP server ready on stdio/)
  })
})

describe('MCP Inspector CLI (v1, runs on Node 20) against the stdio server', () => {
  // inspector-cli 1.0.3 reads its own package.json relative to the working directory: run it from its build dir.
  const cliDir = join(
    realpathSync(join(ROOT, 'packages/mcp-server/node_modules/@modelcontextprotocol/inspector-cli')),
    'build',
  )
  const inspect = async (...args: string[]) => {
    const { stdout } = await run(process.execPath, ['cli.js', '--cli', TSX, STDIO, ...args], {
      cwd: cliDir,
      env: { ...process.env, ...keyFileEnv },
      timeout: 60_000,
    })
    return JSON.parse(stdout) as Record<string, unknown>
  }

  it('lists tools, resources and prompts and calls ask', async () => {
    const [tools, resources, prompts, called] = (await Promise.all([
      inspect('--method', 'tools/list'),
      inspect('--method', 'resources/list'),
      inspect('--method', 'prompts/list'),
      inspect(
        '--method',
        'tools/call',
        '--tool-name',
        'ask',
        '--tool-arg',
        'question=Total TRx by product in 2024',
      ),
    ])) as [
      { tools: { name: string }[] },
      { resources: { uri: string }[] },
      { prompts: { name: string }[] },
      { structuredContent: { rows: unknown[] } },
    ]
    expect(tools.tools.map((t) => t.name)).toEqual(['ask', 'list_datasets', 'describe_dataset', 'run_sql'])
    expect(resources.resources.map((r) => r.uri)).toContain('nl2q://datasets/prescriptions')
    expect(prompts.prompts.map((p) => p.name)).toContain('ask_good_questions')
    expect(called.structuredContent.rows.length).toBeGreaterThan(1)
  })
})

describe('stdio relay to a running hub (NL2Q_URL)', () => {
  let url: string

  beforeAll(async () => {
    const remote = await startDemoHub({ HUB_HOME: home })
    const served = await serveOnLoopback(remote.running.app)
    open.push(remote, served)
    url = served.url
  })

  const silent = pino({ level: 'silent' })

  it.each(REVISIONS)('relays %s clients to /mcp, progress included', async (revision) => {
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair()
    const relay = await serveRemoteOverStdio({
      env: { ...keyFileEnv, NL2Q_URL: url },
      logger: silent,
      transport: serverSide,
    })
    open.push(relay)
    expect(relay.principal.tenant).toBe('acme')
    const client = await connectClient(clientSide, revision)
    open.push(client)
    expect((await client.listTools()).tools.map((t) => t.name)).toContain('run_sql')
    const progress: unknown[] = []
    const answer = await client.callTool(
      { name: 'ask', arguments: { question: 'List the HCPs', limit: 3 } },
      { onprogress: (p) => progress.push(p) },
    )
    for (const row of (answer.structuredContent as { rows: string[][] }).rows)
      expect(row[0]!.startsWith('ACM-')).toBe(true)
    expect(progress.length).toBeGreaterThanOrEqual(2)
    const read = await client.readResource({ uri: 'nl2q://datasets/hcps' })
    expect(read.contents).toHaveLength(1)
  })

  it('refuses to start when the running hub refuses the key', async () => {
    await expect(
      serveRemoteOverStdio({
        env: { NL2Q_URL: url, NL2Q_API_KEY: 'nl2q_wrong' },
        logger: silent,
        transport: InMemoryTransport.createLinkedPair()[1],
      }),
    ).rejects.toMatchObject({ code: 'UNAUTHENTICATED' })
  })

  it('runs as a spawned process', async () => {
    const transport = new StdioClientTransport({
      command: TSX,
      args: [STDIO],
      env: { ...process.env, NL2Q_URL: url, NL2Q_API_KEY: adminSecret(), HUB_LOG_LEVEL: 'warn' } as Record<
        string,
        string
      >,
      stderr: 'ignore',
    })
    const client = await connectClient(transport, '2025-11-25')
    open.push(client)
    const described = await client.callTool({
      name: 'describe_dataset',
      arguments: { name: 'prescriptions' },
    })
    expect(described.isError).toBeFalsy()
    await client.close()
  })
})
