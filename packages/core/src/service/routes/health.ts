import { createRoute, z } from '@hono/zod-openapi'
import type { Connector } from '../../connectors/contract.ts'
import { ping } from '../../db/index.ts'
import { createRouter, jsonResponse } from '../openapi.ts'
import type { Services } from '../services.ts'

const CheckSchema = z.object({ name: z.string(), ok: z.boolean(), detail: z.string().optional() })
const ReadySchema = z
  .object({ status: z.enum(['ok', 'unavailable']), checks: z.array(CheckSchema) })
  .openapi('Readiness')

const PROBES = [
  { path: '/health/live', description: 'liveness: 200 while the process is up' },
  {
    path: '/health/ready',
    description:
      'readiness: 200 when the metadata store, every tenant data source and every connector answer, else 503 naming which',
  },
]

const ProbesSchema = z
  .object({
    probes: z.array(z.object({ path: z.string(), description: z.string() })),
  })
  .openapi('HealthProbes')

const index = createRoute({
  method: 'get',
  path: '/health',
  tags: ['operations'],
  summary: 'The health probes',
  responses: {
    200: jsonResponse(ProbesSchema, 'The probes, for a load balancer or an orchestrator', { probes: PROBES }),
  },
})

const live = createRoute({
  method: 'get',
  path: '/health/live',
  tags: ['operations'],
  summary: 'The process is up',
  responses: { 200: jsonResponse(z.object({ status: z.literal('ok') }), 'Alive', { status: 'ok' }) },
})

const ready = createRoute({
  method: 'get',
  path: '/health/ready',
  tags: ['operations'],
  summary: 'Metadata store, every tenant data source and every connector answer',
  responses: {
    200: jsonResponse(ReadySchema, 'Ready', {
      status: 'ok',
      checks: [
        { name: 'metadata', ok: true },
        { name: 'tenant:acme', ok: true },
        { name: 'odata', ok: true },
      ],
    }),
    503: jsonResponse(ReadySchema, 'A dependency is down (details name which, never how to reach it)'),
  },
})

export function healthRoutes(services: Services, connectors: Connector[], isDraining: () => boolean) {
  return createRouter()
    .openapi(index, (c) => c.json({ probes: PROBES }, 200))
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
        if (connector.health)
          checks.push(await connector.health().catch(() => ({ name: connector.name, ok: false })))
      }
      if (isDraining()) checks.push({ name: 'shutdown', ok: false, detail: 'draining' })
      const ok = checks.every((x) => x.ok)
      return c.json({ status: ok ? ('ok' as const) : ('unavailable' as const), checks }, ok ? 200 : 503)
    })
}
