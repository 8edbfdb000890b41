import { createRoute, z } from '@hono/zod-openapi'
import { requireRole } from '../../auth/middleware.ts'
import { commonErrors, createRouter, jsonResponse } from '../openapi.ts'
import type { Services } from '../services.ts'
import { bounded, CheckSchema } from './health.ts'

const TenantHealthSchema = z
  .object({ tenant: z.string(), status: z.enum(['ok', 'unavailable']), checks: z.array(CheckSchema) })
  .openapi('TenantHealth')

const adminHealth = createRoute({
  method: 'get',
  path: '/v1/admin/health',
  tags: ['admin'],
  summary: "Whether your tenant's data source answers (within 2 s)",
  security: [{ bearer: [] }],
  middleware: [requireRole('admin')] as const,
  responses: {
    200: jsonResponse(TenantHealthSchema, 'Health of your tenant', {
      tenant: 'acme',
      status: 'ok',
      checks: [{ name: 'data-source', ok: true }],
    }),
    ...commonErrors,
  },
})

/** A tenant admin checks their own data source; other tenants are neither pinged nor named. */
export function adminHealthRoutes(services: Pick<Services, 'tenants'>) {
  return createRouter().openapi(adminHealth, async (c) => {
    const { tenant } = c.get('principal')
    const check = await bounded('data-source', async () => {
      const [mine] = await services.tenants.health(tenant)
      if (!mine) return { name: 'data-source', ok: false, detail: 'NOT_REGISTERED' }
      return { name: 'data-source', ok: mine.ok, ...(mine.error ? { detail: mine.error } : {}) }
    })
    return c.json(
      { tenant, status: check.ok ? ('ok' as const) : ('unavailable' as const), checks: [check] },
      200,
    )
  })
}
