import { availableParallelism } from 'node:os'
import { Tinypool } from 'tinypool'
import type { SqliteAnswer, SqliteTask } from './protocol.ts'

/**
 * SQLite tenant queries run in a pool of child processes, not on the hub's thread: better-sqlite3
 * is synchronous, so a statement on the main thread stops every other request until it ends.
 *
 * Processes, not worker threads: a thread stuck inside sqlite3_step cannot be stopped
 * (`worker.terminate()` waits until the statement returns, measured 32 s for a 32 s statement) and
 * better-sqlite3 exposes no sqlite3_interrupt, while a process can be killed. tinypool (vitest's
 * pool) runs tasks in child processes, kills the one running a task whose AbortSignal fires and
 * starts a replacement.
 */
export interface SqliteWorkerOptions {
  /** Processes at most (default: the number of CPUs, at least 2). */
  maxWorkers?: number
}

let settings: SqliteWorkerOptions = {}
let pool: Tinypool | null = null
let users = 0

/**
 * A running hub's claim on the pool: sets its size (for a pool started after this call) and returns
 * the release to call at shutdown; the processes stop when the last claim is released. Code that
 * queries without a claim (CLI commands, tests) still gets a pool, whose idle processes do not keep
 * the hub's process alive.
 */
export function useSqliteWorkers(options: SqliteWorkerOptions): () => Promise<void> {
  settings = options
  users++
  let released = false
  return async () => {
    if (released) return
    released = true
    if (--users === 0) await closeSqliteWorkers()
  }
}

function workers(): Tinypool {
  if (pool) return pool
  const max = Math.max(1, settings.maxWorkers ?? Math.max(2, availableParallelism()))
  pool = new Tinypool({
    filename: new URL('./worker.mjs', import.meta.url).href,
    runtime: 'child_process',
    // Rows may hold Buffers (BLOBs) and large integers: structured clone, not JSON.
    serialization: 'advanced',
    // The worker is plain JavaScript: no tsx or test-runner flags in the child.
    execArgv: [],
    // Every process stays warm: starting one takes ~0.3 s, which a query must not wait for.
    minThreads: max,
    maxThreads: max,
    idleTimeout: 60_000,
  })
  return pool
}

/** Stop every worker process (hub shutdown, tests); the next query starts a new pool. */
export async function closeSqliteWorkers(): Promise<void> {
  const p = pool
  pool = null
  await p?.destroy()
}

/**
 * Run one statement in a worker. When `signal` fires (deadline or caller gone) before the answer,
 * the task is dropped from the queue or its process is killed, and the promise rejects with an
 * error named `AbortError`.
 */
export function runInSqliteWorker(task: SqliteTask, signal: AbortSignal): Promise<SqliteAnswer> {
  return workers().run(task, { signal }) as Promise<SqliteAnswer>
}
