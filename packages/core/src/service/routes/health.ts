import { createRoute, z } from '@hono/zod-openapi'
import type { Connector } from '../../connectors/contract.ts'
import { ping } from '../../db/index.ts'
import { createRouter, jsonResponse } from '../openapi.ts'
import type { Services } from '../services.ts'

const CheckSchema = z.object({ name: z.string(), ok: z.boolean(), detail: z.string().optional() })
const ReadySchema = z
  .object({ status: z.enum(['ok', 'unavailable']), checks: z.array(CheckSchema) })
  .openapi('Readiness')

const live = createRoute({
  method: 'get',
  path: '/health/live',
  tags: ['operations'],
  summary: 'The process is up',
  responses: { 200: jsonResponse(z.object({ status: z.literal('ok') }), 'Alive') },
})

const ready = createRoute({
  method: 'get',
  path: '/health/ready',
  tags: ['operations'],
  summary: 'Metadata store, every tenant data source and every connector answer',
  responses: {
    200: jsonResponse(ReadySchema, 'Ready'),
    503: jsonResponse(ReadySchema, 'A dependency is down (details name which, never how to reach it)'),
  },
})

export function healthRoutes(services: Services, connectors: Connector[], isDraining: () => boolean) {
  return createRouter()
    .openapi(live, (c) => c.json({ status: 'ok' as const }, 200))
    .openapi(ready, async (c) => {
      const checks: z.infer<typeof CheckSchema>[] = []
      try {
        await ping(services.metadata.ds)
        checks.push({ name: 'metadata', ok: true })
      } catch (err) {
        checks.push({ name: 'metadata', ok: false, detail: (err as { code?: string }).code ?? 'UNREACHABLE' })
      }
      if (checks[0]?.ok) {
        for (const t of await services.tenants.health()) {
          checks.push({ name: `tenant:${t.tenant}`, ok: t.ok, ...(t.error ? { detail: t.error } : {}) })
        }
      }
      for (const connector of connectors) {
        if (connector.healthCheck)
          checks.push(await connector.healthCheck().catch(() => ({ name: connector.name, ok: false })))
      }
      if (isDraining()) checks.push({ name: 'shutdown', ok: false, detail: 'draining' })
      const ok = checks.every((x) => x.ok)
      return c.json({ status: ok ? ('ok' as const) : ('unavailable' as const), checks }, ok ? 200 : 503)
    })
}
