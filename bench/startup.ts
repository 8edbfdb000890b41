import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fmt, row } from './lib.ts'

const ROOT = join(import.meta.dirname, '..')
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx')

/** Spawn a server and time until `url` answers 200; then stop it. */
async function timeToReady(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  url: string,
): Promise<number> {
  const started = performance.now()
  const child: ChildProcess = spawn(cmd, args, {
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
      await new Promise((r) => setTimeout(r, 25))
    }
    throw new Error(`${url} never answered`)
  } finally {
    child.kill('SIGTERM')
    await new Promise((r) => child.once('exit', r))
  }
}

/** Start-up to /health/ready: first start (demo generated), second start (reused), vs a bare handler. */
export async function run(): Promise<void> {
  const home = mkdtempSync(join(tmpdir(), 'nl2q-bench-start-'))
  const env = { HUB_HOME: home, HOST: '127.0.0.1', PORT: '18931', HUB_LOG_LEVEL: 'warn' }
  try {
    const bare = await timeToReady(
      TSX,
      ['-e', "require('node:http').createServer((q,s)=>s.end('ok')).listen(18932,'127.0.0.1')"],
      {},
      'http://127.0.0.1:18932/',
    )
    const first = await timeToReady(
      TSX,
      ['packages/core/src/cli/main.ts', 'start'],
      env,
      'http://127.0.0.1:18931/health/ready',
    )
    const second = await timeToReady(
      TSX,
      ['packages/core/src/cli/main.ts', 'start'],
      env,
      'http://127.0.0.1:18931/health/ready',
    )
    row(
      'first start (generates 2 demo tenants)',
      `${fmt(first / 1000, 2)} s`,
      `bare tsx http server ${fmt(bare / 1000, 2)} s`,
      first / bare,
    )
    row(
      'second start (reuses everything)',
      `${fmt(second / 1000, 2)} s`,
      `bare ${fmt(bare / 1000, 2)} s`,
      second / bare,
    )
  } finally {
    rmSync(home, { recursive: true, force: true })
  }
}
