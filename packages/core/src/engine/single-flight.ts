import { cancelled } from './execute-errors.ts'

interface Flight<T> {
  promise: Promise<T>
  callers: number
  settled: boolean
  controller: AbortController
}

/**
 * Identical reads that arrive while one is running share its execution (single-flight): a burst of
 * the same question after a restart runs the SQL once. The key must hold the tenant and every
 * policy input (the caller builds it like the result cache's key). Each caller still waits under its
 * own signal: one leaving does not stop the others' read; the shared read is aborted only when every
 * caller has left. Results are shared objects: callers must not mutate them.
 */
export function createSingleFlight<T>() {
  const flights = new Map<string, Flight<T>>()

  function leave(key: string, flight: Flight<T>, reason: unknown): void {
    flight.callers--
    if (flight.callers > 0 || flight.settled) return
    if (flights.get(key) === flight) flights.delete(key)
    flight.controller.abort(reason)
  }

  return {
    /** `fn` runs once per key at a time; `joined` tells whether this caller shared a running one. */
    async run(
      key: string,
      signal: AbortSignal | undefined,
      fn: (signal: AbortSignal) => Promise<T>,
    ): Promise<{ value: T; joined: boolean }> {
      if (signal?.aborted) throw cancelled(signal.reason)
      let flight = flights.get(key)
      const joined = flight !== undefined
      if (!flight) {
        const controller = new AbortController()
        const created: Flight<T> = {
          promise: Promise.resolve() as Promise<T>,
          callers: 0,
          settled: false,
          controller,
        }
        created.promise = fn(controller.signal).finally(() => {
          created.settled = true
          if (flights.get(key) === created) flights.delete(key)
        })
        flights.set(key, created)
        flight = created
      }
      const current = flight
      current.callers++
      let onAbort: (() => void) | undefined
      try {
        const value = await new Promise<T>((resolve, reject) => {
          onAbort = () => reject(cancelled(signal?.reason))
          signal?.addEventListener('abort', onAbort, { once: true })
          current.promise.then(resolve, reject)
        })
        return { value, joined }
      } finally {
        if (onAbort) signal?.removeEventListener('abort', onAbort)
        leave(key, current, signal?.reason)
      }
    },
    /** Reads running now (for tests and metrics). */
    get size() {
      return flights.size
    },
  }
}
