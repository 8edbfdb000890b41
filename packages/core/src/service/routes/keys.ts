import { createRoute, z } from '@hono/zod-openapi'
import type { Context } from 'hono'
import { ProblemSchema } from '../../api/schemas.ts'
import { createAuditLog } from '../../audit/index.ts'
import {
  CreateApiKeyInputSchema,
  createApiKey,
  type KeyActor,
  listApiKeys,
  revokeApiKey,
} from '../../auth/index.ts'
import { requireRole } from '../../auth/middleware.ts'
import { ROLES } from '../../principal.ts'
import { commonErrors, createRouter, jsonBody, jsonResponse } from '../openapi.ts'
import type { Services } from '../services.ts'

const ApiKeySchema = z
  .object({
    id: z.string(),
    tenant: z.string(),
    role: z.enum(ROLES),
    attributes: z.record(z.string(), z.array(z.string())),
    label: z.string().nullable(),
    createdBy: z.string().nullable(),
    createdAt: z.string(),
    expiresAt: z.string().nullable(),
    revokedAt: z.string().nullable(),
    lastUsedAt: z.string().nullable(),
  })
  .openapi('ApiKey')

const CreatedApiKeySchema = ApiKeySchema.extend({
  secret: z.string().describe('The API key (nl2q_…): shown once, stored only as a hash'),
}).openapi('CreatedApiKey')

const KEY_EXAMPLE: z.infer<typeof ApiKeySchema> = {
  id: '42a12a1743fa41d9',
  tenant: 'acme',
  role: 'analyst',
  attributes: { territories: ['ACM-T01'] },
  label: 'report bot',
  createdBy: 'apikey:10cbe589a20a4e5e',
  createdAt: '2025-01-15T09:30:00.000Z',
  expiresAt: '2025-04-15T09:30:00.000Z',
  revokedAt: null,
  lastUsedAt: null,
}

const KeyIdParam = z.object({ id: z.string().regex(/^[0-9a-f]{16}$/, 'an API key id is 16 hex characters') })
const notFound = {
  description: 'No such key in your tenant',
  content: { 'application/problem+json': { schema: ProblemSchema } },
}
const admin = requireRole('admin')

const createKey = createRoute({
  method: 'post',
  path: '/v1/admin/keys',
  tags: ['admin'],
  summary: 'Create an API key in your tenant (the secret is returned once)',
  security: [{ bearer: [] }],
  middleware: [admin] as const,
  request: jsonBody(CreateApiKeyInputSchema, 'The role, row-policy attributes and lifetime of the key', {
    role: 'analyst',
    attributes: { territories: ['ACM-T01'] },
    expiresInSec: 7_776_000,
    label: 'report bot',
  }),
  responses: {
    201: jsonResponse(CreatedApiKeySchema, 'The new key and its secret', {
      ...KEY_EXAMPLE,
      secret: 'nl2q_42a12a1743fa41d9_DXJIDytISIYHJfk45oEfo9P2p2cresvcd4SU8q93WzU',
    }),
    ...commonErrors,
  },
})

const listKeys = createRoute({
  method: 'get',
  path: '/v1/admin/keys',
  tags: ['admin'],
  summary: "Your tenant's API keys (never their secrets or hashes)",
  security: [{ bearer: [] }],
  middleware: [admin] as const,
  responses: {
    200: jsonResponse(z.object({ items: z.array(ApiKeySchema) }), 'The keys', { items: [KEY_EXAMPLE] }),
    ...commonErrors,
  },
})

const deleteKey = createRoute({
  method: 'delete',
  path: '/v1/admin/keys/{id}',
  tags: ['admin'],
  summary: 'Revoke an API key of your tenant; it fails from the next request on',
  security: [{ bearer: [] }],
  middleware: [admin] as const,
  request: { params: KeyIdParam },
  responses: { 204: { description: 'Revoked' }, 404: notFound, ...commonErrors },
})

/** Tenant admins manage their own tenant's keys; the tenant is the caller's, never a parameter. */
export function keysRoutes(services: Pick<Services, 'metadata'>) {
  const { metadata } = services
  const audit = createAuditLog(metadata)
  // Key changes are audited by the key store itself; the route says who and from where.
  const actor = (c: Context): KeyActor => ({
    subject: c.get('principal').subject,
    credentialId: c.get('principal').credential.id,
    requestId: c.get('requestId') ?? null,
    clientIp: c.get('clientIp') ?? null,
    channel: 'api',
  })

  return createRouter()
    .openapi(createKey, async (c) => {
      const principal = c.get('principal')
      const key = await createApiKey(metadata, {
        ...c.req.valid('json'),
        tenant: principal.tenant,
        createdBy: principal.subject,
        actor: actor(c),
      })
      return c.json(key, 201)
    })
    .openapi(listKeys, async (c) => {
      const tenant = c.get('principal').tenant
      const items = await listApiKeys(metadata, tenant)
      // Reading who holds which key is audited like any other read.
      await audit.append(tenant, {
        ...actor(c),
        action: 'key.list',
        resource: 'api_keys',
        outcome: 'success',
        rowCount: items.length,
      })
      return c.json({ items }, 200)
    })
    .openapi(deleteKey, async (c) => {
      await revokeApiKey(metadata, c.get('principal').tenant, c.req.valid('param').id, actor(c))
      return c.body(null, 204)
    })
}
