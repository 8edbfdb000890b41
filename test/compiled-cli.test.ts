import { execFile, execSync, spawn } from 'node:child_process'
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEMO_CACHE } from './global-setup.ts'

/**
 * The compiled JavaScript a user runs (`pnpm install` builds it; `pnpm start`, `nl2q`, `nl2q-mcp`
 * run it): no TypeScript at run time, and the runtime assets (bundled YAML models, the Power
 * Query connector files) still found from dist/. The rest of the suite runs the sources.
 */
const ROOT = join(import.meta.dirname, '..')
const BIN = join(ROOT, 'node_modules', '.bin')
const home = mkdtempSync(join(tmpdir(), 'nl2q-compiled-'))
mkdirSync(join(home, 'tenants'))
for (const id of ['acme', 'globex'])
  copyFileSync(join(DEMO_CACHE, `${id}.sqlite`), join(home, 'tenants', `${id}.sqlite`))
afterAll(() => rmSync(home, { recursive: true, force: true }))

// Plain Node: without the suite's `--conditions=nl2q-source`, packages resolve to their dist/.
const { NODE_OPTIONS: _sourceCondition, ...plainEnv } = process.env
const env = { ...plainEnv, HUB_HOME: home, HOST: '127.0.0.1', HUB_LOG_LEVEL: 'warn' }

const untrackedJs = () =>
  execSync('git ls-files --others --exclude-standard -- "*.js"', { cwd: ROOT, encoding: 'utf8' })
    .split('\n')
    .filter(Boolean)
let strayJs: string[] = []

beforeAll(() => {
  const before = new Set(untrackedJs())
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>
  }
  execSync(pkg.scripts.build!, { cwd: ROOT, env: { ...env, PATH: `${BIN}:${process.env.PATH}` } })
  strayJs = untrackedJs().filter((f) => !before.has(f))
})

const nl2q = (args: string[]) => promisify(execFile)(join(BIN, 'nl2q'), args, { cwd: ROOT, env })

function jsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.js'))
    .map((e) => join(e.parentPath, e.name))
}

describe('the compiled hub', () => {
  it('leaves no import of a .ts file in dist/', () => {
    for (const pkg of ['core', 'mcp-server', 'powerbi-connector']) {
      const files = jsFiles(join(ROOT, 'packages', pkg, 'dist'))
      expect(files.length).toBeGreaterThan(0)
      for (const file of files)
        expect(readFileSync(file, 'utf8'), file).not.toMatch(/from '\.{1,2}\/[^']*\.ts'/)
    }
  })

  it('writes its JavaScript under dist/ only (a source importing a test helper would escape it)', () => {
    expect(strayJs).toEqual([])
  })

  it('answers `nl2q --help` with the built-in and the connector commands', async () => {
    const { stdout } = await nl2q(['--help'])
    for (const command of ['start', 'key', 'ask', 'powerbi']) expect(stdout).toContain(`  ${command}`)
  })

  it('starts, answers a question with a bundled model, serves the .mez, and its key list runs after', async () => {
    const child = spawn(process.execPath, ['packages/core/dist/cli/main.js', 'start', '--port', '0'], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const exited = new Promise((resolve) => child.once('exit', resolve))
    try {
      let stdout = ''
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (d) => {
          stdout += d
          const m = /listening on (http:\/\/\S+)/.exec(stdout)
          if (m && /globex: admin API key/.test(stdout)) resolve(m[1]!)
        })
        child.once('exit', (code) => reject(new Error(`hub exited ${code}`)))
      })
      const key = /acme: admin API key (\S+)/.exec(stdout)![1]!
      expect((await fetch(`${url}/health/ready`)).status).toBe(200)
      const res = await fetch(`${url}/v1/ask`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ question: 'How many HCPs are in the Northeast region?' }),
      })
      expect(res.status, await res.clone().text()).toBe(200)
      expect(((await res.json()) as { rowCount: number }).rowCount).toBe(1)
      const mez = await fetch(`${url}/powerbi/NL2Q.mez`)
      expect(mez.status).toBe(200)
      expect((await mez.arrayBuffer()).byteLength).toBeGreaterThan(100)
    } finally {
      child.kill('SIGTERM')
      await exited
    }
    const { stdout } = await nl2q(['key', 'list', '--tenant', 'acme'])
    expect(stdout).toMatch(/admin\tactive/)
  })
})
