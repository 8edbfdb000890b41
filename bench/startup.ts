import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fmt, row } from './lib.ts'

const ROOT = join(import.meta.dirname, '..')
/** The compiled CLI, as `pnpm hub`, `nl2q` and the container run it (`pnpm bench` builds it first). */
const HUB = join(ROOT, 'packages', 'core', 'dist', 'cli', 'main.js')
const RUNS = 5

/** Spawn a server and time until `url` answers 200; then stop it. */
async function timeToReady(args: string[], env: NodeJS.ProcessEnv, url: string): Promise<number> {
  const started = performance.now()
  const child: ChildProcess = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: 'ignore',
  })
  try {
    for (let i = 0; i < 1200; i++) {
      try {
        const res = await fetch(url)
        if (res.status === 200) return performance.now() - started
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 10))
    }
    throw new Error(`${url} never answered`)
  } finally {
    child.kill('SIGTERM')
    await new Promise((r) => child.once('exit', r))
  }
}

/** Spawn a command and time it to its exit (which must be 0). */
async function timeToExit(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const started = performance.now()
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: 'ignore' })
  const code = await new Promise((r) => child.once('exit', r))
  if (code !== 0) throw new Error(`node ${args.join(' ')} exited ${code}`)
  return performance.now() - started
}

/** The median of `RUNS` runs, so one slow spawn on a busy machine does not decide the figure. */
async function median(measure: () => Promise<number>): Promise<number> {
  const ms: number[] = []
  for (let i = 0; i < RUNS; i++) ms.push(await measure())
  return ms.sort((a, b) => a - b)[Math.floor(RUNS / 2)]!
}

const secs = (ms: number) => `${fmt(ms / 1000, 2)} s`

/**
 * CLI start-up of the compiled hub (goals: `--help` and `key list` ≤ 0.5 s, `start` to ready
 * ≤ 1 s on an existing HUB_HOME) vs bare `node -e ''` and a bare node HTTP server.
 */
export async function run(): Promise<void> {
  const home = mkdtempSync(join(tmpdir(), 'nl2q-bench-start-'))
  // Plain Node: packages resolve to their compiled dist/, never to sources.
  const { NODE_OPTIONS: _conditions, ...plain } = process.env
  const env = { ...plain, HUB_HOME: home, HOST: '127.0.0.1', PORT: '18931', HUB_LOG_LEVEL: 'warn' }
  const ready = 'http://127.0.0.1:18931/health/ready'
  try {
    const bareNode = await median(() => timeToExit(['-e', ''], plain))
    const bareServer = await median(() =>
      timeToReady(
        ['-e', "require('node:http').createServer((q,s)=>s.end('ok')).listen(18932,'127.0.0.1')"],
        plain,
        'http://127.0.0.1:18932/',
      ),
    )
    const first = await timeToReady([HUB, 'start'], env, ready)
    const second = await median(() => timeToReady([HUB, 'start'], env, ready))
    const help = await median(() => timeToExit([HUB, '--help'], env))
    const keyList = await median(() => timeToExit([HUB, 'key', 'list', '--tenant', 'acme'], env))
    row('hub --help (goal ≤ 0.5 s)', secs(help), `node -e '' ${secs(bareNode)}`, help / bareNode)
    row(
      'hub key list --tenant acme (goal ≤ 0.5 s)',
      secs(keyList),
      `node -e '' ${secs(bareNode)}`,
      keyList / bareNode,
    )
    row(
      'first start (generates 2 demo tenants)',
      secs(first),
      `bare http server ${secs(bareServer)}`,
      first / bareServer,
    )
    row(
      'start to ready, same HUB_HOME (goal ≤ 1 s)',
      secs(second),
      `bare http server ${secs(bareServer)}`,
      second / bareServer,
    )
  } finally {
    rmSync(home, { recursive: true, force: true })
  }
}
