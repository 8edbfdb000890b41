import { HubError } from '../errors.ts'

export interface BulkheadOptions {
  /** Queries that may run at once. */
  maxConcurrent: number
  /** Queries that may wait for a slot; one more is refused with 503 TENANT_BUSY. */
  maxQueued: number
}

/** Seconds a refused caller is told to wait. */
const RETRY_AFTER_SEC = 2

/**
 * A per-tenant concurrency cap (bulkhead): at most `maxConcurrent` queries of one tenant run at a
 * time, `maxQueued` more wait in arrival order, and the next is refused at once, so one tenant's
 * slow queries hold a bounded share of the SQLite workers and database connections and cannot
 * starve the other tenants. A waiter whose signal fires (deadline, caller gone) leaves the queue.
 * Hand-written: the libraries at hand (p-limit, p-queue) have no bounded queue with refusal.
 */
export function createBulkhead(options: BulkheadOptions) {
  let running = 0
  const waiting: { grant: () => void }[] = []

  function release(): void {
    const next = waiting.shift()
    if (next) next.grant()
    else running--
  }

  async function acquire(
    signal: AbortSignal | undefined,
    onAbort: (reason: unknown) => Error,
  ): Promise<void> {
    if (signal?.aborted) throw onAbort(signal.reason)
    if (running < options.maxConcurrent) {
      running++
      return
    }
    if (waiting.length >= options.maxQueued)
      throw new HubError('TENANT_BUSY', 'Too many queries of this tenant are running; try again shortly', {
        headers: { 'Retry-After': String(RETRY_AFTER_SEC) },
      })
    await new Promise<void>((resolve, reject) => {
      const entry = {
        grant: () => {
          signal?.removeEventListener('abort', leave)
          resolve()
        },
      }
      const leave = () => {
        const i = waiting.indexOf(entry)
        if (i >= 0) waiting.splice(i, 1)
        reject(onAbort(signal?.reason))
      }
      signal?.addEventListener('abort', leave, { once: true })
      waiting.push(entry)
    })
  }

  return {
    /** Run `fn` in a slot; `onAbort` maps the signal's reason to the error a waiter rejects with. */
    async run<T>(fn: () => Promise<T>, signal: AbortSignal | undefined, onAbort: (reason: unknown) => Error) {
      await acquire(signal, onAbort)
      try {
        return await fn()
      } finally {
        release()
      }
    },
    stats: () => ({ running, queued: waiting.length }),
  }
}

export type Bulkhead = ReturnType<typeof createBulkhead>
