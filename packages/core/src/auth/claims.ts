import { createHash } from 'node:crypto'
import type { JWTPayload } from 'jose'
import { type Principal, ROLES, type Role } from '../principal.ts'

export interface ClaimNames {
  tenantClaim: string
  rolesClaim: string
}

const strings = (v: unknown): string[] =>
  typeof v === 'string' ? [v] : Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []

/** Roles from an array or a space/comma separated string; unknown roles are ignored. */
export function rolesFrom(value: unknown): Role[] {
  const names = typeof value === 'string' ? value.split(/[\s,]+/) : strings(value)
  return [...new Set(names.filter((r): r is Role => (ROLES as readonly string[]).includes(r)))]
}

/** `attributes` claim (object of string | string[]) plus a top-level `territories` claim. */
export function attributesFrom(payload: JWTPayload): Record<string, string[]> {
  const out: Record<string, string[]> = {}
  const attrs = payload.attributes
  if (attrs && typeof attrs === 'object' && !Array.isArray(attrs)) {
    for (const [k, v] of Object.entries(attrs as Record<string, unknown>)) {
      const values = strings(v)
      if (values.length > 0 || Array.isArray(v)) out[k] = values
    }
  }
  if (payload.territories !== undefined) {
    out.territories = [...new Set([...(out.territories ?? []), ...strings(payload.territories)])]
  }
  return out
}

/** OAuth scopes from `scope` (space separated) or `scp` (array or string). */
export function scopesFrom(payload: JWTPayload): string[] {
  const raw = [payload.scope, payload.scp].flatMap((v) => (typeof v === 'string' ? v.split(' ') : strings(v)))
  return [...new Set(raw.filter(Boolean))]
}

/** Names a JWT in audit records without storing it: its `jti`, else a fingerprint of the token. */
export function tokenId(payload: JWTPayload, token: string): string {
  if (typeof payload.jti === 'string' && payload.jti.length > 0 && payload.jti.length <= 100)
    return `jwt:${payload.jti}`
  return `jwt:sha256:${createHash('sha256').update(token).digest('hex').slice(0, 32)}`
}

export function tenantFrom(payload: JWTPayload, names: ClaimNames): string | null {
  const t = payload[names.tenantClaim]
  return typeof t === 'string' && t.length > 0 && t.length <= 64 ? t : null
}

/** The principal of a verified JWT whose tenant exists and that carries at least one hub role. */
export function principalFromJwt(
  payload: JWTPayload,
  token: string,
  tenant: string,
  roles: Role[],
): Principal {
  return {
    tenant,
    subject: String(payload.sub),
    roles,
    attributes: attributesFrom(payload),
    credential: {
      kind: 'jwt',
      id: tokenId(payload, token),
      issuer: String(payload.iss),
      expiresAt: typeof payload.exp === 'number' ? new Date(payload.exp * 1000).toISOString() : null,
      scopes: scopesFrom(payload),
    },
  }
}
