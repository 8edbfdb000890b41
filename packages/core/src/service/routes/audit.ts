import { createRoute, z } from '@hono/zod-openapi'
import { auditEventFor, checkpointMessage, createAuditLog } from '../../audit/index.ts'
import { requireRole } from '../../auth/middleware.ts'
import { HubError } from '../../errors.ts'
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
    outcome: z.enum(['success', 'failure', 'denied', 'invalid', 'error', 'timeout']),
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
  responses: {
    200: jsonResponse(AuditPageSchema, 'One page of events', {
      items: [
        {
          tenant: 'acme',
          seq: 42,
          time: '2025-01-15T09:30:00.000Z',
          subject: 'apikey:10cbe589a20a4e5e',
          credentialId: '10cbe589a20a4e5e',
          action: 'ask',
          resource: 'prescriptions',
          requestId: '8eee99c5-49b4-4acb-9586-f8259edcbb84',
          clientIp: '203.0.113.7',
          channel: 'api',
          outcome: 'success',
          rowCount: 1,
          durationMs: 40,
          questionHash: '3f1c…',
          planHash: '9a0b…',
          sqlHash: 'c7d2…',
          detail: null,
          prevHash: '65bc1210bfd4f5be97fa61af747537b4f7514d46254753dadf3bef4e75f8b0bb',
          hash: '9e820e0a81c66bc0428314737e5d1a2dc5c06d8f40eccda313920c08803bffa9',
        },
      ],
      nextCursor: 'czo0Mg',
    }),
    ...commonErrors,
  },
})

const AuditHeadSchema = z
  .object({
    tenant: z.string(),
    seq: z.number().int().describe('The last event the signature covers'),
    hash: z.string().describe("That event's chain hash"),
    at: z.string().describe('When the checkpoint was signed'),
    keyId: z.string().describe('First 16 hex of SHA-256 of the HMAC key (HUB_HOME/audit-checkpoint.key)'),
    algorithm: z.literal('HMAC-SHA256'),
    signature: z.string().describe('Hex HMAC-SHA256 of `signed` under the checkpoint key'),
    signed: z.string().describe('The exact canonical JSON text that was signed'),
  })
  .openapi('AuditHead')

const auditHead = createRoute({
  method: 'get',
  path: '/v1/audit/head',
  tags: ['admin'],
  summary: "The latest signed checkpoint of your tenant's audit chain, to anchor outside the hub",
  security: [{ bearer: [] }],
  middleware: [requireRole('admin')] as const,
  responses: {
    200: jsonResponse(AuditHeadSchema, 'The latest signed head', {
      tenant: 'acme',
      seq: 1042,
      hash: '9e820e0a81c66bc0428314737e5d1a2dc5c06d8f40eccda313920c08803bffa9',
      at: '2025-01-15T09:31:00.000Z',
      keyId: '4be2c1f09a7d3e55',
      algorithm: 'HMAC-SHA256',
      signature: '0c5b8e7f2d9a41c6b3e0f7a81d2c4e6f9b0a3d5c7e1f2a4b6c8d0e2f4a6b8c0d',
      signed:
        '{"createdAt":"2025-01-15T09:31:00.000Z","hash":"9e820e0a81c66bc0428314737e5d1a2dc5c06d8f40eccda313920c08803bffa9","keyId":"4be2c1f09a7d3e55","seq":1042,"tenant":"acme","v":1}',
    }),
    ...commonErrors,
  },
})

/** A tenant admin reads their own tenant's trail; the read itself is audited. */
export function auditRoutes(services: Pick<Services, 'metadata' | 'config'>) {
  const audit = createAuditLog(services.metadata, { home: services.config.home })
  return createRouter()
    .openapi(listAudit, async (c) => {
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
    .openapi(auditHead, async (c) => {
      const principal = c.get('principal')
      const cp = await audit.head(principal.tenant)
      if (!cp) throw new HubError('NOT_FOUND', 'The audit chain has no signed checkpoint yet')
      await audit.append(
        principal.tenant,
        auditEventFor(
          principal,
          { requestId: c.get('requestId') ?? null, clientIp: c.get('clientIp') ?? null, channel: 'api' },
          { action: 'audit.head', resource: 'audit', outcome: 'success', detail: { seq: cp.seq } },
        ),
      )
      const { signature, ...unsigned } = cp
      return c.json(
        {
          tenant: cp.tenant,
          seq: cp.seq,
          hash: cp.hash,
          at: cp.createdAt,
          keyId: cp.keyId,
          algorithm: 'HMAC-SHA256' as const,
          signature,
          signed: checkpointMessage(unsigned),
        },
        200,
      )
    })
}
