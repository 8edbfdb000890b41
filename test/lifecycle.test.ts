import { type ChildProcess, spawn } from 'node:child_process'
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { parseApiKey } from '../packages/core/src/auth/index.ts'
import { DEMO_CACHE } from './global-setup.ts'
import { trickledPost } from './helpers/http.ts'

const ROOT = join(import.meta.dirname, '..')
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx')
const home = mkdtempSync(join(tmpdir(), 'nl2q-life-'))
mkdirSync(join(home, 'tenants'))
for (const id of ['acme', 'globex'])
  copyFileSync(join(DEMO_CACHE, `${id}.sqlite`), join(home, 'tenants', `${id}.sqlite`))
afterAll(() => rmSync(home, { recursive: true, force: true }))

interface Started {
  child: ChildProcess
  url: string
  stdout: string
  stderr: () => string
  exited: Promise<number | null>
}

/** `hub start` exactly as a user runs it, on a free port; resolves once it prints its URL. */
function startHub(): Promise<Started> {
  const child = spawn(TSX, ['packages/core/src/cli/main.ts', 'start', '--port', '0'], {
    cwd: ROOT,
    env: { ...process.env, HUB_HOME: home, HOST: '127.0.0.1', HUB_LOG_LEVEL: 'info', HUB_CONNECTORS: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stderr!.on('data', (d) => {
    stderr += d
  })
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`hub did not start: ${stderr}`)), 60_000)
    child.stdout!.on('data', (d) => {
      stdout += d
      const m = /listening on (http:\/\/\S+)/.exec(stdout)
      if (m && /globex: admin API key/.test(stdout)) {
        clearTimeout(timer)
        resolve({ child, url: m[1]!, stdout, stderr: () => stderr, exited })
      }
    })
    child.on('exit', (code) => reject(new Error(`hub exited ${code}: ${stderr}`)))
  })
}

const keyOf = (stdout: string, tenant: string) =>
  new RegExp(`${tenant}: admin API key (\\S+)`).exec(stdout)?.[1]

describe('hub start', () => {
  let firstKey: string | undefined

  it('drains an in-flight request on SIGTERM, then exits 0 and logs one redacted line per request', async () => {
    const hub = await startHub()
    firstKey = keyOf(hub.stdout, 'acme')
    expect(firstKey).toMatch(/^nl2q_/)
    const { port } = new URL(hub.url)
    // A request whose body is still arriving when SIGTERM comes: the server must finish it.
    const answered = await trickledPost({
      port,
      path: '/v1/ask',
      headers: { authorization: `Bearer ${firstKey}`, 'content-type': 'application/json' },
      first: '{"question": "How many HCPs are in the',
      rest: ' Northeast region?"}',
      pauseMs: 800,
      duringPause: () => setTimeout(() => hub.child.kill('SIGTERM'), 300),
    })
    expect(answered.status, answered.body).toBe(200)
    expect(JSON.parse(answered.body).rowCount).toBe(1)
    expect(await hub.exited).toBe(0)
    const lines = hub
      .stderr()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
    const requests = lines.filter((l) => l.msg === 'request')
    expect(requests).toContainEqual(
      expect.objectContaining({
        route: '/v1/ask',
        status: 200,
        tenant: 'acme',
        requestId: expect.any(String),
      }),
    )
    expect(requests.find((l) => l.route === '/v1/ask')?.credentialId).toBe(parseApiKey(firstKey!)?.id)
    expect(lines.some((l) => l.msg === 'stopped')).toBe(true)
    expect(hub.stderr()).not.toContain(parseApiKey(firstKey!)!.secret)
  })

  it('reuses the demo tenants and keys on a second start without printing a key again', async () => {
    const hub = await startHub()
    try {
      // The key is printed only by the start that created it: never again, in output or logs.
      expect(hub.stdout).not.toContain(firstKey)
      expect(hub.stdout).not.toMatch(/nl2q_/)
      expect(hub.stderr()).not.toMatch(/nl2q_/)
      expect(hub.stdout).toContain(`acme: admin API key in ${join(home, 'acme.key')}`)
      expect(readFileSync(join(home, 'acme.key'), 'utf8').trim()).toBe(firstKey)
      expect(hub.stderr()).not.toContain('demo tenant generated')
      const me = await fetch(`${hub.url}/v1/me`, { headers: { authorization: `Bearer ${firstKey}` } })
      expect(me.status).toBe(200)
    } finally {
      hub.child.kill('SIGTERM')
      expect(await hub.exited).toBe(0)
    }
  })
})
