import type { MiddlewareHandler } from 'hono'
import type { Logger } from 'pino'
import { bound, type Metrics } from '../../metrics/registry.ts'

export interface AccessLogOptions {
  logger: Logger
  metrics: Metrics
}

/**
 * One JSON line per request (request id, tenant, credential id, route, status, duration) and the
 * HTTP metrics. Also gives every handler a child logger bound to the request id.
 */
export function accessLog(options: AccessLogOptions): MiddlewareHandler {
  const { logger, metrics } = options
  // pre-bound label sets: prom-client hashes a label object on every call otherwise
  const requests = bound(metrics.httpRequests)
  const durations = bound(metrics.httpDuration)
  // The access line's members are the fixed ones below, none of them a redacted path: its child
  // skips redaction, which cost more than writing the line (3.4 of 5.8 µs). Every other line a
  // request logs (through `c.var.log`) is redacted as before.
  const lines = logger.child({}, { redact: [] })
  return async function accessLogMiddleware(c, next) {
    const start = performance.now()
    c.set('log', logger.child({ requestId: c.get('requestId') }))
    try {
      await next()
    } finally {
      const durationMs = performance.now() - start
      const status = c.res.status
      const route = c.req.routePath || 'unmatched'
      const principal = c.get('principal')
      const statusText = String(status)
      requests(c.req.method, route, statusText).inc()
      durations(c.req.method, route, statusText).observe(durationMs / 1000)
      lines.info(
        {
          requestId: c.get('requestId'),
          method: c.req.method,
          route,
          path: c.req.path,
          status,
          durationMs: Math.round(durationMs * 100) / 100,
          tenant: principal?.tenant,
          credentialId: principal?.credential.id,
          clientIp: c.get('clientIp'),
        },
        'request',
      )
    }
  }
}
