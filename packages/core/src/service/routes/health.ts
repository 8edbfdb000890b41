import { createRoute, z } from '@hono/zod-openapi'
import type { Connector } from '../../connectors/contract.ts'
import { ping } from '../../db/index.ts'
import { HEALTH_DEADLINE_MS, withDeadline } from '../deadline.ts'
import { createRouter, jsonResponse } from '../openapi.ts'
import type { Services } from '../services.ts'

export const CheckSchema = z.object({ name: z.string(), ok: z.boolean(), detail: z.string().optional() })
type Check = z.infer<typeof CheckSchema>
const ReadySchema = z
  .object({ status: z.enum(['ok', 'unavailable']), checks: z.array(CheckSchema) })
  .openapi('Readiness')

const PROBES = [
  { path: '/health/live', description: 'liveness: 200 while the process is up' },
  {
    path: '/health/ready',
    description:
      "readiness: 200 when the hub's own dependencies (metadata store, audit trail, connectors) answer and it is not draining, else 503 naming which; tenant data sources are not checked (GET /v1/admin/health)",
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
  summary: "The hub's own dependencies answer: metadata store, audit trail, connectors",
  description:
    "Tenant data sources are not checked here (one tenant's database must not take the hub out of service); an admin sees their own at GET /v1/admin/health. Each check waits at most 2 s.",
  responses: {
    200: jsonResponse(ReadySchema, 'Ready', {
      status: 'ok',
      checks: [
        { name: 'metadata', ok: true },
        { name: 'audit', ok: true },
        { name: 'odata', ok: true },
      ],
    }),
    503: jsonResponse(ReadySchema, 'A dependency is down (details name which, never how to reach it)'),
  },
})

const failureCode = (err: unknown) => (err as { code?: string }).code ?? 'UNREACHABLE'

/** Run one check within the health deadline; a check that does not answer in time failed. */
export function bounded(name: string, run: () => Promise<Check | undefined>): Promise<Check> {
  return withDeadline(
    HEALTH_DEADLINE_MS,
    async () => (await run()) ?? { name, ok: true },
    () => ({ name, ok: false, detail: 'TIMEOUT' }),
  ).catch((err: unknown) => ({ name, ok: false, detail: failureCode(err) }))
}

export function healthRoutes(services: Services, connectors: Connector[], isDraining: () => boolean) {
  return createRouter()
    .openapi(index, (c) => c.json({ probes: PROBES }, 200))
    .openapi(live, (c) => c.json({ status: 'ok' as const }, 200))
    .openapi(ready, async (c) => {
      const checks = await Promise.all([
        bounded('metadata', async () => {
          await ping(services.metadata.ds)
          return undefined
        }),
        // The audit writer appends to these tables; if they cannot be read, nothing can be served.
        bounded('audit', async () => {
          await services.metadata.knex('audit_heads').first('tenant')
          return undefined
        }),
        ...connectors
          .filter((connector) => connector.healthCheck)
          .map((connector) => bounded(connector.name, async () => connector.healthCheck?.())),
      ])
      if (isDraining()) checks.push({ name: 'shutdown', ok: false, detail: 'draining' })
      const ok = checks.every((x) => x.ok)
      return c.json({ status: ok ? ('ok' as const) : ('unavailable' as const), checks }, ok ? 200 : 503)
    })
}
