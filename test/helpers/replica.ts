import { type ChildProcess, spawn } from 'node:child_process'
import { join } from 'node:path'

const ROOT = join(import.meta.dirname, '..', '..')

export interface Replica {
  child: ChildProcess
  url: string
  stderr(): string
  exited: Promise<number | null>
  /** SIGTERM and wait for the exit (a no-op when it already exited). */
  stop(): Promise<void>
}

/** `hub start --port 0` as a user runs it, with `env` over this process's; resolves once it listens. */
export function startReplica(
  env: Record<string, string>,
  timeoutMs = 60_000,
  /** Flags for node itself (e.g. `--cpu-prof`, which NODE_OPTIONS does not take) and `hub start`. */
  extra: { nodeArgs?: string[]; args?: string[] } = {},
): Promise<Replica> {
  // node itself with tsx's loader, not the tsx CLI: the CLI runs the hub in a child of its own, which
  // a SIGKILL of the CLI (the kill -9 test) would leave running after the suite
  const args = [
    ...(extra.nodeArgs ?? []),
    '--import',
    'tsx',
    'packages/core/src/cli/main.ts',
    'start',
    '--port',
    '0',
    ...(extra.args ?? []),
  ]
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, HOST: '127.0.0.1', HUB_CONNECTORS: '', HUB_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stderr?.on('data', (d) => {
    stderr += d
  })
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`hub did not start: ${stderr}`))
    }, timeoutMs)
    child.stdout?.on('data', (d) => {
      stdout += d
      const m = /listening on (http:\/\/\S+)/.exec(stdout)
      if (m) {
        clearTimeout(timer)
        resolve({
          child,
          url: m[1]!,
          stderr: () => stderr,
          exited,
          async stop() {
            if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
            await exited
          },
        })
      }
    })
    child.on('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`hub exited ${code}: ${stderr}`))
    })
  })
}
