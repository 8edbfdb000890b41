import type { Checkpoint } from './checkpoints.ts'

export interface CheckpointScheduleOptions {
  /** Sign one tenant's current head (after checking the events since its last checkpoint). */
  sign(tenant: string): Promise<Checkpoint>
  /** Every chain head, for the periodic pass. */
  heads(): Promise<{ tenant: string; seq: number }[]>
  /** Sign every head that moved at least this often… */
  intervalMs: number
  /** …and a tenant's head as soon as this many events were appended since its last checkpoint. */
  everyEvents: number
  onError?: (err: unknown) => void
}

export interface CheckpointSchedule {
  /** An append committed `seq` on `tenant`'s chain. */
  appended(tenant: string, seq: number): void
  stop(): void
}

/**
 * Checkpoints every N events or T milliseconds, whichever comes first, so the tail that a consistent
 * rewrite could cut undetected is at most N events or T of time. One signing per tenant at a time;
 * an append that crosses N while one runs asks for another when it ends.
 */
export function createCheckpointSchedule(options: CheckpointScheduleOptions): CheckpointSchedule {
  const { sign, heads, intervalMs, everyEvents, onError } = options
  /** The last seq this process signed (or saw signed) per tenant; unknown counts as 0. */
  const signed = new Map<string, number>()
  /** The seq at which a count-triggered signing was last asked for: a failing chain is retried
   * after another N events (or by the timer), not on every append. */
  const asked = new Map<string, number>()
  const running = new Map<string, Promise<void>>()
  const again = new Set<string>()
  let stopped = false

  function run(tenant: string): void {
    if (stopped) return
    if (running.has(tenant)) {
      again.add(tenant)
      return
    }
    const job = sign(tenant)
      .then((cp) => {
        signed.set(tenant, Math.max(cp.seq, signed.get(tenant) ?? 0))
      })
      .catch((err: unknown) => onError?.(err))
      .finally(() => {
        running.delete(tenant)
        if (again.delete(tenant)) run(tenant)
      })
    running.set(tenant, job)
  }

  let ticking = false
  const timer = setInterval(() => {
    if (ticking) return
    ticking = true
    heads()
      .then((list) => {
        // A tenant being signed is left to that signing: this list may have been read before it
        // ended, and queueing another would sign the same head twice. A head that moved meanwhile
        // is seen on the next tick.
        for (const h of list) if ((signed.get(h.tenant) ?? 0) < h.seq && !running.has(h.tenant)) run(h.tenant)
      })
      .catch((err: unknown) => onError?.(err))
      .finally(() => {
        ticking = false
      })
  }, intervalMs)
  timer.unref()

  return {
    appended(tenant, seq) {
      const since = Math.max(signed.get(tenant) ?? 0, asked.get(tenant) ?? 0)
      if (seq - since < everyEvents) return
      asked.set(tenant, seq)
      run(tenant)
    },
    stop() {
      stopped = true
      clearInterval(timer)
    },
  }
}
