import type { MiddlewareHandler } from 'hono'
import { HubError } from '../../errors.ts'

/**
 * Fail a request that runs longer than `ms` with 504 problem+json, and abort the work behind it:
 * `c.var.signal` fires when the client goes away or the time is up, and the hub passes it to the
 * running query (MariaDB: KILL QUERY).
 */
export function requestTimeout(ms: number): MiddlewareHandler {
  return async function requestTimeoutMiddleware(c, next) {
    // One controller for both causes: the client's signal forwards its abort to it. (AbortSignal.any
    // keeps weak references and a finalization registry per call: 5 % of a cached request's CPU.)
    const deadline = new AbortController()
    const client = c.req.raw.signal
    const onClientAbort = () => deadline.abort(client.reason)
    if (client.aborted) onClientAbort()
    else client.addEventListener('abort', onClientAbort, { once: true })
    c.set('signal', deadline.signal)
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
      client.removeEventListener('abort', onClientAbort)
    }
  }
}
