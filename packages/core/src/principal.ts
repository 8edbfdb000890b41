import { z } from 'zod'

export const RoleSchema = z.enum(['admin', 'analyst', 'viewer', 'integration'])
export type Role = z.infer<typeof RoleSchema>
export const ROLES = RoleSchema.options

/** Who is asking. Derived only from a verified credential; never from a request body or header. */
export const PrincipalSchema = z.object({
  tenant: z.string(),
  subject: z.string(),
  roles: z.array(RoleSchema),
  /** Attributes for row-level policy, e.g. { territories: ['ACM-T01', 'ACM-T02'] }. */
  attributes: z.record(z.string(), z.array(z.string())),
  credential: z.object({
    kind: z.enum(['api_key', 'jwt', 'local']),
    id: z.string(),
    /** Issuer for JWTs; identity is keyed on issuer + subject. */
    issuer: z.string().optional(),
    expiresAt: z.string().nullable(),
    scopes: z.array(z.string()).default([]),
  }),
})
export type Principal = z.infer<typeof PrincipalSchema>

export function hasRole(principal: Principal, ...roles: Role[]): boolean {
  return principal.roles.some((r) => roles.includes(r))
}

/** A principal for the CLI run by an operator on the hub's own machine (`hub ask --tenant`). */
export function localPrincipal(tenant: string, roles: Role[] = ['admin']): Principal {
  return {
    tenant,
    subject: `local:${process.env.USER ?? 'operator'}`,
    roles,
    attributes: {},
    credential: { kind: 'local', id: 'local', expiresAt: null, scopes: [] },
  }
}
