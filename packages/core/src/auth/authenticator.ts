import { errors as joseErrors } from 'jose'
import { HUB_AUDIT_TENANT } from '../audit/index.ts'
import type { HubConfig } from '../config/index.ts'
import type { GrantedClaims, VerifiedToken } from '../connectors/contract.ts'
import { HubError, isHubError } from '../errors.ts'
import { hotRow } from '../metadata/hot-read.ts'
import type { MetadataStore } from '../metadata/store.ts'
import type { Principal, Role } from '../principal.ts'
import { API_KEY_PREFIX, parseApiKey, secretMatches } from './api-key-format.ts'
import { type ApiKeyRow, toInfo } from './api-keys.ts'
import { principalFromJwt, rolesFrom, tenantFrom, tokenId } from './claims.ts'
import { parseAuthorization } from './credentials.ts'
import { createJwtVerifier } from './jwt-verifier.ts'
import { createLastUsedTracker } from './last-used.ts'
import { noteTenantLive } from './tenant-liveness.ts'

/** Anything that can say whether a tenant exists (the tenant registry does). */
export interface TenantLookup {
  exists(id: string): boolean | Promise<boolean>
}

/** Why a credential was refused, with what may be safely recorded about it. */
export interface AuthFailure {
  ok: false
  error: HubError
  /** Short machine reason for the audit record (`missing`, `expired`, `bad_signature`, …). */
  reason: string
  /**
   * The chain the failure is audited in: the tenant when the credential proves it (a stored key's
   * tenant, or the tenant claim of a JWT whose signature verified), else the hub-level `_hub`.
   */
  auditTenant: string
  subject: string | null
  credentialId: string | null
}

export type AuthOutcome = { ok: true; principal: Principal } | AuthFailure

export interface Authenticator {
  /** An `Authorization` header value → outcome; never throws for a bad credential. */
  check(authorization: string | undefined, options?: { basic?: boolean }): Promise<AuthOutcome>
  checkBearer(token: string): Promise<AuthOutcome>
  checkApiKey(key: string): Promise<AuthOutcome>
  /** The same, throwing the HubError on failure (MCP stdio, Power BI Basic). */
  verifyAuthorization(authorization: string | undefined, options?: { basic?: boolean }): Promise<Principal>
  verifyBearer(token: string): Promise<Principal>
  verifyApiKey(key: string): Promise<Principal>
}

export interface AuthenticatorOptions {
  config: Pick<HubConfig, 'auth'>
  metadata: MetadataStore
  tenants: TenantLookup
  /** How often `last_used_at` may be written per key (default one minute). */
  lastUsedIntervalMs?: number
  /**
   * Connectors' claims hooks (`Connector.mapClaims`), called for every verified JWT of an existing
   * tenant before the role check; their grants are added to the token's own roles and attributes.
   */
  mapClaims?: (token: VerifiedToken) => Promise<GrantedClaims | undefined>
}

/** The token's own roles and attributes plus a connector's grant (union: both come from the issuer). */
function withGrant(principal: Principal, grant: GrantedClaims | undefined): Principal {
  if (!grant) return principal
  const roles = [...new Set<Role>([...principal.roles, ...grant.roles])]
  const attributes = { ...principal.attributes }
  for (const [k, v] of Object.entries(grant.attributes))
    attributes[k] = [...new Set([...(attributes[k] ?? []), ...v])]
  return { ...principal, roles, attributes }
}

const invalid = (message = 'The credential is invalid, expired or revoked') =>
  new HubError('INVALID_TOKEN', message)

function fail(
  reason: string,
  error: HubError,
  extra: Partial<Pick<AuthFailure, 'auditTenant' | 'subject' | 'credentialId'>> = {},
): AuthFailure {
  return {
    ok: false,
    reason,
    error,
    auditTenant: HUB_AUDIT_TENANT,
    subject: null,
    credentialId: null,
    ...extra,
  }
}

/** jose error → audit reason; a JWKS endpoint that cannot be reached is our fault, not the caller's. */
function joseReason(err: unknown): { reason: string; error: HubError } {
  if (isHubError(err)) {
    return { reason: err.code === 'SERVICE_UNAVAILABLE' ? 'jwks_unavailable' : 'bad_header', error: err }
  }
  if (err instanceof joseErrors.JWTExpired)
    return err.claim === 'iat'
      ? { reason: 'max_age', error: invalid('The token was issued longer ago than this hub accepts') }
      : { reason: 'expired', error: invalid('The token has expired') }
  if (err instanceof joseErrors.JWTClaimValidationFailed)
    return { reason: `claim_${err.claim}`, error: invalid() }
  if (err instanceof joseErrors.JWSSignatureVerificationFailed)
    return { reason: 'bad_signature', error: invalid() }
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return { reason: 'alg_not_allowed', error: invalid() }
  if (err instanceof joseErrors.JWKSNoMatchingKey) return { reason: 'unknown_kid', error: invalid() }
  if (err instanceof joseErrors.JOSEError) return { reason: err.code.toLowerCase(), error: invalid() }
  return { reason: 'malformed', error: invalid() }
}

/**
 * Verifies bearer tokens (API keys `nl2q_…` or JWTs) and HTTP Basic (API key as password). The
 * tenant comes only from the verified credential. Nothing about a key's validity is cached: every
 * call reads the key row, so a revocation takes effect on the next request.
 */
const KEY_SQL =
  'select k.*, (select 1 from tenants t where t.id = k.tenant and t.removed_at is null) as tenant_live ' +
  'from api_keys k where k.id = ?'

export function createAuthenticator(options: AuthenticatorOptions): Authenticator {
  const { config, metadata, tenants } = options
  const jwt = createJwtVerifier(config.auth)
  const lastUsed = createLastUsedTracker(metadata, options.lastUsedIntervalMs)

  async function checkApiKey(key: string): Promise<AuthOutcome> {
    const parsed = parseApiKey(key)
    if (!parsed) return fail('malformed_key', invalid())
    // The key row and whether its tenant is live, in one prepared read (the request path's only
    // metadata read besides the runtime's own liveness check).
    const row = await hotRow<ApiKeyRow & { tenant_live: number | null }>(metadata.knex, KEY_SQL, [parsed.id])
    if (!row) return fail('unknown_key', invalid(), { credentialId: parsed.id })
    const known = { auditTenant: row.tenant, credentialId: row.id, subject: `apikey:${row.id}` }
    if (!secretMatches(parsed.secret, row.secret_hash)) return fail('bad_secret', invalid(), known)
    if (row.revoked_at) return fail('revoked', invalid(), known)
    const now = Date.now()
    if (row.expires_at && Date.parse(row.expires_at) <= now) return fail('expired', invalid(), known)
    if (!row.tenant_live)
      return fail('unknown_tenant', invalid(), { ...known, auditTenant: HUB_AUDIT_TENANT })
    await lastUsed.touch(row.id, now)
    const info = toInfo(row)
    const principal: Principal = {
      tenant: info.tenant,
      subject: `apikey:${info.id}`,
      roles: [info.role],
      attributes: info.attributes,
      credential: { kind: 'api_key', id: info.id, expiresAt: info.expiresAt, scopes: [] },
    }
    noteTenantLive(principal, now)
    return { ok: true, principal }
  }

  async function checkJwt(token: string): Promise<AuthOutcome> {
    if (!jwt) return fail('jwt_disabled', invalid())
    const names = config.auth
    let verified: Awaited<ReturnType<typeof jwt.verify>>
    try {
      verified = await jwt.verify(token)
    } catch (err) {
      const { reason, error } = joseReason(err)
      // An expired, too old or not-yet-valid token passed the signature, issuer and audience checks (jose
      // checks time last), so its tenant claim is our issuer's word: audit it in that tenant's
      // chain. Any other failure may carry a tenant claim someone else chose: `_hub`.
      const payload =
        err instanceof joseErrors.JWTExpired ||
        (err instanceof joseErrors.JWTClaimValidationFailed && (err.claim === 'nbf' || err.claim === 'iat'))
          ? err.payload
          : null
      const tenant = payload ? tenantFrom(payload, names) : null
      const auditTenant = tenant && (await tenants.exists(tenant)) ? tenant : HUB_AUDIT_TENANT
      return fail(reason, error, {
        auditTenant,
        subject: payload && typeof payload.sub === 'string' ? payload.sub : null,
        credentialId: payload ? tokenId(payload, token) : null,
      })
    }
    const { payload } = verified
    const credentialId = tokenId(payload, token)
    const subject = String(payload.sub)
    const tenant = tenantFrom(payload, names)
    if (!tenant)
      return fail('no_tenant_claim', invalid('The token names no tenant'), { subject, credentialId })
    if (!(await tenants.exists(tenant))) return fail('unknown_tenant', invalid(), { subject, credentialId })
    let grant: GrantedClaims | undefined
    try {
      grant = await options.mapClaims?.({ tenant, issuer: String(payload.iss), subject, claims: payload })
    } catch (err) {
      // Fail closed: a hook that cannot decide grants nothing and the token is refused.
      const error = isHubError(err)
        ? err
        : new HubError('INTERNAL', 'The token could not be mapped to hub roles', { cause: err })
      const reason = typeof error.details?.reason === 'string' ? error.details.reason : 'mapping_failed'
      return fail(`claims_${reason}`, error, { auditTenant: tenant, subject, credentialId })
    }
    const principal = withGrant(
      principalFromJwt(payload, token, tenant, rolesFrom(payload[names.rolesClaim])),
      grant,
    )
    noteTenantLive(principal)
    const roles = principal.roles
    // Decision: a verified token without any hub role is 403, not 401 — the caller is known (and
    // audited in their tenant), a new token would not help unless the IdP grants a role.
    if (roles.length === 0) {
      return fail(
        'no_role',
        new HubError('FORBIDDEN', 'The token carries no hub role (admin, analyst, viewer, integration)'),
        {
          auditTenant: tenant,
          subject,
          credentialId,
        },
      )
    }
    return { ok: true, principal }
  }

  const checkBearer = (token: string): Promise<AuthOutcome> =>
    token.startsWith(API_KEY_PREFIX) ? checkApiKey(token) : checkJwt(token)

  async function check(
    authorization: string | undefined,
    opts: { basic?: boolean } = {},
  ): Promise<AuthOutcome> {
    const credential = parseAuthorization(authorization)
    if (credential.scheme === 'none') {
      return fail(
        'missing',
        new HubError(
          'UNAUTHENTICATED',
          'Authentication required: send Authorization: Bearer <API key or JWT>',
        ),
      )
    }
    if (credential.scheme === 'bearer') return checkBearer(credential.token)
    if (credential.scheme === 'basic' && opts.basic) return checkApiKey(credential.password)
    return fail(
      `unsupported_scheme_${credential.scheme}`,
      new HubError('UNAUTHENTICATED', 'Use Authorization: Bearer <API key or JWT>'),
    )
  }

  const orThrow = async (outcome: Promise<AuthOutcome>): Promise<Principal> => {
    const o = await outcome
    if (!o.ok) throw o.error
    return o.principal
  }

  return {
    check,
    checkBearer,
    checkApiKey,
    verifyAuthorization: (authorization, opts) => orThrow(check(authorization, opts)),
    verifyBearer: (token) => orThrow(checkBearer(token)),
    verifyApiKey: (key) => orThrow(checkApiKey(key)),
  }
}
