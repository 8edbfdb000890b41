import { execFile } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { promisify } from 'node:util'
import { type ServerType, serve } from '@hono/node-server'
import { createMcpConnector } from '@nl2q/mcp-server'
import { createPowerBiConnector } from '@nl2q/powerbi-connector'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { REPO } from './helpers/fixtures.ts'
import { createTestHub, type TestHub } from './helpers/hub.ts'

/**
 * Every `sh` block of the READMEs either runs here, offline, against a demo hub served on loopback
 * (the README's host and key substituted), or is listed below with the reason it does not. A new
 * block that is neither fails the suite, so the READMEs stay true.
 */
const NOT_RUN: Array<[RegExp, string]> = [
  [/pnpm@10 install && npx -y pnpm@10 start/, 'installs and starts a hub (this test starts its own)'],
  [/pnpm@10 install --frozen-lockfile && npx -y pnpm@10 test/, 'runs the whole suite, this test included'],
  [/^npx vitest run /m, 'runs test files (they run in the suite anyway)'],
  [/build:mez/, 'builds the connector (tested by the powerbi suite)'],
]

interface Block {
  file: string
  line: number
  text: string
}

function readmeBlocks(): Block[] {
  const files = [
    'README.md',
    ...readdirSync(join(REPO, 'packages')).map((p) => join('packages', p, 'README.md')),
  ].filter((f) => {
    try {
      readFileSync(join(REPO, f))
      return true
    } catch {
      return false
    }
  })
  const blocks: Block[] = []
  for (const file of files) {
    const lines = readFileSync(join(REPO, file), 'utf8').split('\n')
    for (let i = 0; i < lines.length; i++) {
      if (!/^```(sh|bash|shell)\s*$/.test(lines[i] ?? '')) continue
      const start = i + 1
      let end = start
      while (end < lines.length && !/^```\s*$/.test(lines[end] ?? '')) end++
      blocks.push({ file, line: start, text: lines.slice(start, end).join('\n') })
      i = end
    }
  }
  return blocks
}

let hub: TestHub
let server: ServerType
let base: string
const key = () => hub.keys.acme as string

beforeAll(async () => {
  // a first start's demo data, ending last week: the README asks about "last quarter"
  hub = await createTestHub({
    freshDemo: true,
    env: { HUB_RATE_LIMIT: '100000' },
    connectors: [createMcpConnector(), createPowerBiConnector()],
  })
  server = await new Promise<ServerType>((resolve) => {
    const s = serve({ fetch: hub.app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s))
  })
  const address = server.address()
  base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`
}, 240_000)

afterAll(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()))
  await hub?.close()
})

/** The README's command with the README's hub URL, key file and key placeholders made real. */
function localise(text: string): string {
  return (
    text
      .replaceAll('http://127.0.0.1:8080', base)
      .replaceAll('https://hub.example.com', base)
      .replaceAll('$PWD/.nl2q', hub.home)
      .replaceAll('.nl2q/', `${hub.home}/`)
      .replaceAll('nl2q_…', key())
      .replace(/\bcurl /g, `curl -w '\\nHTTP_STATUS %{http_code}\\n' `)
      // The stdio example keeps stdin open 5 s for the answer; a busy CI machine needs longer to start.
      .replace(/\bsleep 5\)/, 'sleep 20)')
  )
}

function withoutSourceCondition(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { NODE_OPTIONS: _sourceCondition, ...rest } = env
  return rest
}

async function runBlock(text: string): Promise<{ status: number; body: string; stdout: string }> {
  const { stdout } = await promisify(execFile)('bash', ['-euo', 'pipefail', '-c', localise(text)], {
    cwd: REPO,
    // as a user's shell runs them: without the suite's `--conditions=nl2q-source` (vitest.config.ts),
    // so `nl2q-mcp` and `pnpm hub` run the compiled dist/ that `pnpm install` built
    env: { ...withoutSourceCondition(process.env), NL2Q_KEY: key(), HUB_LOG_LEVEL: 'silent' },
    timeout: 90_000,
    maxBuffer: 16 * 1024 * 1024,
  })
  const m = /\nHTTP_STATUS (\d{3})\n?$/.exec(stdout)
  return { status: m ? Number(m[1]) : 0, body: m ? stdout.slice(0, m.index) : stdout, stdout }
}

/** What each runnable block must answer, by what it calls. */
function expectAnswer(block: Block, r: { status: number; body: string; stdout: string }): void {
  const where = `${block.file}:${block.line}`
  if (/\/v1\/ask/.test(block.text)) {
    expect(r.status, where).toBe(200)
    expect((JSON.parse(r.body) as { rows: unknown[] }).rows.length, where).toBeGreaterThan(0)
  } else if (/\/v1\/saved-questions/.test(block.text)) {
    expect([200, 201], `${where}: ${r.body}`).toContain(r.status)
  } else if (/\/odata\//.test(block.text)) {
    expect(r.status, `${where}: ${r.body}`).toBe(200)
    expect((JSON.parse(r.body) as { value: unknown[] }).value.length, where).toBeGreaterThan(0)
  } else if (/\/mcp\b|\bnl2q-mcp\b/.test(block.text)) {
    if (/\bcurl\b/.test(block.text)) expect(r.status, where).toBe(200)
    const messages = r.body
      .split('\n')
      .map((l) => l.replace(/^data: /, '').trim())
      .filter((l) => l.startsWith('{'))
      .map(
        (l) => JSON.parse(l) as { result?: { structuredContent?: { rows?: unknown[] }; isError?: boolean } },
      )
    const call = messages.find((m) => m.result?.structuredContent)
    expect(call?.result?.isError, `${where}: ${r.body}`).toBeFalsy()
    expect(call?.result?.structuredContent?.rows?.length, `${where}: ${r.body}`).toBeGreaterThan(0)
  } else {
    throw new Error(`${where}: runnable block without an expectation; add one to readme-examples.test.ts`)
  }
}

const blocks = readmeBlocks()

describe('README command blocks', () => {
  it('finds the blocks, at least the /v1/ask and saved-question examples', () => {
    expect(blocks.some((b) => b.text.includes('/v1/ask'))).toBe(true)
    expect(blocks.some((b) => b.text.includes('/v1/saved-questions'))).toBe(true)
  })

  it('leaves out only blocks a listed reason names, and every reason still names a block', () => {
    for (const [re, why] of NOT_RUN)
      expect(
        blocks.some((b) => re.test(b.text)),
        why,
      ).toBe(true)
  })

  // In file order: the saved-question read follows the block that saves it.
  for (const block of blocks) {
    if (NOT_RUN.some(([re]) => re.test(block.text))) continue
    const name = `${relative('.', block.file)}:${block.line} ${block.text.split('\n')[0]?.slice(0, 60)}`
    it(`runs ${name}`, async () => {
      expectAnswer(block, await runBlock(block.text))
    }, 120_000)
  }
})
