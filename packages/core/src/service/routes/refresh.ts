import { createRoute, z } from '@hono/zod-openapi'
import { requireRole } from '../../auth/middleware.ts'
import { commonErrors, createRouter, jsonResponse } from '../openapi.ts'
import type { Services } from '../services.ts'
import { requestContext } from './data.ts'

const refresh = createRoute({
  method: 'post',
  path: '/v1/admin/refresh',
  tags: ['admin'],
  summary: "Drop your tenant's cached results and re-read its schema and value index",
  description:
    'Use after the tenant database changed (a re-seed, new columns, new values). The next question re-introspects the database.',
  security: [{ bearer: [] }],
  middleware: [requireRole('admin')] as const,
  responses: {
    200: jsonResponse(z.object({ tenant: z.string(), refreshed: z.literal(true) }), 'Done', {
      tenant: 'acme',
      refreshed: true,
    }),
    ...commonErrors,
  },
})

/** Explicit invalidation of the result cache and the tenant runtime (model, value index, pool). */
export function refreshRoutes(services: Pick<Services, 'hub' | 'tenants'>) {
  return createRouter().openapi(refresh, async (c) => {
    const principal = c.get('principal')
    services.hub.invalidateCache(principal.tenant)
    await services.tenants.invalidate(principal.tenant)
    await services.hub.audit(
      principal,
      principal.tenant,
      { action: 'admin.refresh', resource: 'tenant', outcome: 'success' },
      requestContext(c),
    )
    return c.json({ tenant: principal.tenant, refreshed: true as const }, 200)
  })
}
