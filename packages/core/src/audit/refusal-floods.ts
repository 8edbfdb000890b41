import type { AuditAppendInput } from './record.ts'
import { noteAuditAppend } from './request-scope.ts'

/** One credential's run of 429s inside one rate-limit window. */
interface Flood {
  tenant: string
  event: AuditAppendInput
  count: number
  lastRequestId: string | null
  timer: NodeJS.Timeout
}

export interface RefusalFloodsOptions {
  /** Writes the one event of a window (the caller logs a failure; a flood is never retried). */
  write(tenant: string, event: AuditAppendInput): Promise<void>
  /** Credentials flooding at once before the oldest window is written early (default 10,000). */
  maxOpen?: number
}

export interface RefusalFloods {
  /**
   * Count one 429 of `credential`. The first of a window opens it; the window's single event (the
   * first request's event with `count` and the last request id) is written when it ends.
   */
  add(tenant: string, credential: string, event: AuditAppendInput, windowMs: number): void
  /** Write every open window now (shutdown). */
  flush(): Promise<void>
}

/**
 * Rate-limited requests are audited as one event per credential per window carrying the count, so
 * that a flood of refused requests cannot flood the audit trail.
 */
export function createRefusalFloods(options: RefusalFloodsOptions): RefusalFloods {
  const maxOpen = options.maxOpen ?? 10_000
  const open = new Map<string, Flood>()

  function close(key: string): Promise<void> {
    const flood = open.get(key)
    if (!flood) return Promise.resolve()
    open.delete(key)
    clearTimeout(flood.timer)
    const detail = { ...flood.event.detail, count: flood.count, lastRequestId: flood.lastRequestId }
    return options.write(flood.tenant, { ...flood.event, detail })
  }

  return {
    add(tenant, credential, event, windowMs) {
      // Counted is audited: the request's own refusal audit must not write it again.
      noteAuditAppend(event.requestId, event.outcome)
      const key = `${tenant}\u0000${credential}`
      const flood = open.get(key)
      if (flood) {
        flood.count++
        flood.lastRequestId = event.requestId ?? null
        return
      }
      if (open.size >= maxOpen) {
        const oldest = open.keys().next().value
        if (oldest !== undefined) void close(oldest)
      }
      const timer = setTimeout(() => void close(key), windowMs)
      timer.unref()
      open.set(key, { tenant, event, count: 1, lastRequestId: event.requestId ?? null, timer })
    },
    async flush() {
      await Promise.all([...open.keys()].map(close))
    },
  }
}
