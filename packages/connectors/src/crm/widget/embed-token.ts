import { randomUUID } from 'node:crypto'
import { HubError } from '@nl2q/core'
import { errors, jwtVerify, SignJWT } from 'jose'
import { z } from 'zod'

export const EMBED_AUDIENCE = 'nl2q-widget'
/** The connector secret that signs embed links (`hub connector secret set crm --tenant t embed_signing_key=…`). */
export const EMBED_KEY_SECRET = 'embed_signing_key'
export const EMBED_MAX_TTL_SECONDS = 300

const issuerOf = (tenant: string) => `nl2q:crm:${tenant}`

const ClaimsSchema = z.object({
  sub: z.string().min(1).max(128),
  hcp: z.string().min(1).max(32),
  jti: z.string().min(16).max(64),
  exp: z.number().int(),
})
export type EmbedClaims = z.infer<typeof ClaimsSchema>

function keyOf(secret: string): Uint8Array {
  if (secret.length < 32)
    throw new HubError('CONFIG_INVALID', `The ${EMBED_KEY_SECRET} secret must be at least 32 characters`)
  return new TextEncoder().encode(secret)
}

/** A one-time link token: HS256, audience nl2q-widget, issuer of the tenant, a fresh jti. */
export async function mintEmbedToken(
  tenant: string,
  secret: string,
  claims: { user: string; hcp: string; ttlSeconds: number },
): Promise<{ token: string; jti: string; expiresAt: Date }> {
  const jti = randomUUID()
  const now = Math.floor(Date.now() / 1000)
  const exp = now + Math.min(claims.ttlSeconds, EMBED_MAX_TTL_SECONDS)
  const token = await new SignJWT({ hcp: claims.hcp })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuer(issuerOf(tenant))
    .setAudience(EMBED_AUDIENCE)
    .setSubject(claims.user)
    .setJti(jti)
    .setIssuedAt(now)
    .setExpirationTime(exp)
    .sign(keyOf(secret))
  return { token, jti, expiresAt: new Date(exp * 1000) }
}

/** Verify signature (HS256 only), audience, issuer, expiry and a life of at most five minutes. */
export async function verifyEmbedToken(tenant: string, secret: string, token: string): Promise<EmbedClaims> {
  try {
    const { payload } = await jwtVerify(token, keyOf(secret), {
      algorithms: ['HS256'],
      audience: EMBED_AUDIENCE,
      issuer: issuerOf(tenant),
      maxTokenAge: `${EMBED_MAX_TTL_SECONDS}s`,
      requiredClaims: ['sub', 'jti', 'exp', 'iat'],
    })
    const claims = ClaimsSchema.safeParse(payload)
    if (!claims.success) throw new HubError('INVALID_TOKEN', 'The embed link lacks its user or HCP')
    return claims.data
  } catch (cause) {
    if (cause instanceof HubError) throw cause
    if (cause instanceof errors.JWTExpired)
      throw new HubError('INVALID_TOKEN', 'The embed link has expired: open the record again', { cause })
    throw new HubError('INVALID_TOKEN', 'The embed link is not valid', { cause })
  }
}
