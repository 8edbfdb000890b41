import { createRoute, z } from '@hono/zod-openapi'
import { auditEventFor, createAuditLog } from '../../audit/index.ts'
import { requireRole } from '../../auth/middleware.ts'
import { commonErrors, createRouter, jsonResponse } from '../openapi.ts'
import type { Services } from '../services.ts'

const AuditEventSchema = z
  .object({
    tenant: z.string(),
    seq: z.number().int(),
    time: z.string(),
    subject: z.string().nullable(),
    credentialId: z.string().nullable(),
    action: z.string(),
    resource: z.string().nullable(),
    requestId: z.string().nullable(),
    clientIp: z.string().nullable(),
    channel: z.string().nullable(),
    outcome: z.enum(['success', 'failure', 'denied', 'error', 'timeout']),
    rowCount: z.number().int().nullable(),
    durationMs: z.number().int().nullable(),
    questionHash: z.string().nullable(),
    planHash: z.string().nullable(),
    sqlHash: z.string().nullable(),
    detail: z.record(z.string(), z.unknown()).nullable(),
    prevHash: z.string(),
    hash: z.string(),
  })
  .openapi('AuditEvent')

const AuditPageSchema = z
  .object({ items: z.array(AuditEventSchema), nextCursor: z.string().nullable() })
  .openapi('AuditPage')

const listAudit = createRoute({
  method: 'get',
  path: '/v1/audit',
  tags: ['admin'],
  summary: "Your tenant's audit trail, newest first",
  security: [{ bearer: [] }],
  middleware: [requireRole('admin')] as const,
  request: {
    query: z.object({
      since: z.iso.datetime({ offset: true }).optional().describe('Events at or after this time'),
      action: z.string().max(64).optional(),
      subject: z.string().max(255).optional(),
      limit: z.coerce.number().int().min(1).max(500).default(100),
      cursor: z.string().max(64).optional().describe('nextCursor of the previous page'),
    }),
  },
  responses: { 200: jsonResponse(AuditPageSchema, 'One page of events'), ...commonErrors },
})

/** A tenant admin reads their own tenant's trail; the read itself is audited. */
export function auditRoutes(services: Pick<Services, 'metadata' | 'config'>) {
  const audit = createAuditLog(services.metadata, { home: services.config.home })
  return createRouter().openapi(listAudit, async (c) => {
    const principal = c.get('principal')
    const query = c.req.valid('query')
    const started = performance.now()
    const page = await audit.list(principal.tenant, query)
    await audit.append(
      principal.tenant,
      auditEventFor(
        principal,
        { requestId: c.get('requestId') ?? null, clientIp: c.get('clientIp') ?? null, channel: 'api' },
        {
          action: 'audit.read',
          resource: 'audit',
          outcome: 'success',
          rowCount: page.items.length,
          durationMs: performance.now() - started,
          detail: {
            since: query.since ?? null,
            action: query.action ?? null,
            subject: query.subject ?? null,
          },
        },
      ),
    )
    return c.json(page, 200)
  })
}
