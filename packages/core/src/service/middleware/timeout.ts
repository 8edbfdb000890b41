import type { MiddlewareHandler } from 'hono'
import { HubError } from '../../errors.ts'

/**
 * Fail a request that runs longer than `ms` with 504 problem+json, and abort the work behind it:
 * `c.var.signal` fires when the client goes away or the time is up, and the hub passes it to the
 * running query (MariaDB: KILL QUERY).
 */
export function requestTimeout(ms: number): MiddlewareHandler {
  return async function requestTimeoutMiddleware(c, next) {
    const deadline = new AbortController()
    c.set('signal', AbortSignal.any([c.req.raw.signal, deadline.signal]))
    let timer: NodeJS.Timeout | undefined
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        deadline.abort(new HubError('TIMEOUT', `The request did not finish within ${ms} ms`))
        reject(deadline.signal.reason)
      }, ms)
      timer.unref()
    })
    try {
      await Promise.race([next(), expired])
    } finally {
      clearTimeout(timer)
    }
  }
}
