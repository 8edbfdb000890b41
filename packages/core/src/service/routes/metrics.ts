import { createHash, timingSafeEqual } from 'node:crypto'
import { Hono } from 'hono'
import { HubError } from '../../errors.ts'
import type { Services } from '../services.ts'

const digest = (s: string) => createHash('sha256').update(s).digest()

/**
 * `GET /metrics` (Prometheus text). Labels name tenants (query durations, pool sizes), so it is
 * never open to everyone: with `token`, only `Authorization: Bearer <token>` gets it.
 */
export function metricsRoutes(services: Pick<Services, 'metrics' | 'tenants'>, token: string | undefined) {
  const expected = token === undefined ? null : digest(token)
  return new Hono().get('/metrics', async function metricsHandler(c) {
    if (expected) {
      const m = /^Bearer +(\S+) *$/i.exec(c.req.header('authorization') ?? '')
      if (!m?.[1] || !timingSafeEqual(digest(m[1]), expected)) {
        throw new HubError(
          'UNAUTHENTICATED',
          'The metrics endpoint needs its bearer token (HUB_METRICS_TOKEN)',
          {
            headers: { 'WWW-Authenticate': 'Bearer realm="nl2q-metrics"' },
          },
        )
      }
    }
    for (const p of await services.tenants.poolStats()) {
      services.metrics.poolUsed.set({ tenant: p.tenant }, p.used)
      services.metrics.poolFree.set({ tenant: p.tenant }, p.free)
    }
    const body = await services.metrics.registry.metrics()
    return c.body(body, 200, { 'content-type': services.metrics.registry.contentType })
  })
}
