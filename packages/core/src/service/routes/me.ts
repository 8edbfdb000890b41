import { createRoute, z } from '@hono/zod-openapi'
import { commonErrors, createRouter, jsonResponse } from '../openapi.ts'

const MeSchema = z
  .object({
    tenant: z.string(),
    subject: z.string(),
    roles: z.array(z.string()),
    attributes: z.record(z.string(), z.array(z.string())),
    credential: z.object({
      kind: z.string(),
      id: z.string(),
      issuer: z.string().optional(),
      expiresAt: z.string().nullable(),
      scopes: z.array(z.string()),
    }),
  })
  .openapi('Principal')

const route = createRoute({
  method: 'get',
  path: '/v1/me',
  tags: ['identity'],
  summary: "The caller's principal: tenant, subject, roles, attributes, credential id and expiry",
  security: [{ bearer: [] }],
  responses: {
    200: jsonResponse(MeSchema, 'The verified principal', {
      tenant: 'acme',
      subject: 'apikey:10cbe589a20a4e5e',
      roles: ['analyst'],
      attributes: { territories: ['ACM-T01'] },
      credential: { kind: 'api_key', id: '10cbe589a20a4e5e', expiresAt: null, scopes: [] },
    }),
    ...commonErrors,
  },
})

export function meRoutes() {
  return createRouter().openapi(route, (c) => c.json(c.get('principal'), 200))
}
