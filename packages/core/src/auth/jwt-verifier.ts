import { createPublicKey, type KeyObject } from 'node:crypto'
import {
  createRemoteJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  type JWTPayload,
  type JWTVerifyGetKey,
  errors as joseErrors,
  jwtVerify,
  type ProtectedHeaderParameters,
} from 'jose'
import type { HubConfig } from '../config/index.ts'
import { HubError } from '../errors.ts'

export interface JwtVerifier {
  /** Verified claims, or a jose/HubError describing why not. */
  verify(token: string): Promise<{ payload: JWTPayload; header: ProtectedHeaderParameters }>
  algorithms: string[]
}

const HMAC = ['HS256', 'HS384', 'HS512']
const RSA = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512']
const ASYMMETRIC = [...RSA, 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519']
const CURVE_ALG: Record<string, string> = { prime256v1: 'ES256', secp384r1: 'ES384', secp521r1: 'ES512' }

/** Headers that tell a verifier where to fetch or find a key: never followed, always refused. */
const KEY_LOCATING_HEADERS = ['jwk', 'jku', 'x5u', 'x5c'] as const
/** A `kid` is a lookup name; this leaves out whitespace, quotes and control characters. */
const KID_RE = /^[A-Za-z0-9._~+/=:-]{1,256}$/

function allowedFor(key: KeyObject): { allowed: string[]; preferred: string[] } {
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return { allowed: RSA, preferred: ['RS256'] }
    case 'rsa-pss':
      return { allowed: ['PS256', 'PS384', 'PS512'], preferred: ['PS256'] }
    case 'ec': {
      const alg = CURVE_ALG[key.asymmetricKeyDetails?.namedCurve ?? '']
      if (!alg) throw new HubError('CONFIG_INVALID', 'HUB_JWT_PUBLIC_KEY: unsupported EC curve')
      return { allowed: [alg], preferred: [alg] }
    }
    case 'ed25519':
    case 'ed448':
      return { allowed: ['EdDSA', 'Ed25519'], preferred: ['EdDSA', 'Ed25519'] }
    default:
      throw new HubError('CONFIG_INVALID', 'HUB_JWT_PUBLIC_KEY: unsupported key type')
  }
}

function pickAlgorithms(configured: string[] | undefined, allowed: string[], preferred: string[]): string[] {
  const algorithms = configured?.length ? configured : preferred
  const bad = algorithms.filter((a) => !allowed.includes(a))
  if (bad.length > 0) {
    throw new HubError(
      'CONFIG_INVALID',
      `HUB_JWT_ALGORITHMS: ${bad.join(', ')} cannot be used with this kind of key`,
    )
  }
  return algorithms
}

/**
 * Build the JWT verifier from config, or null when JWTs are not enabled. The algorithm allow-list
 * is explicit and bound to the key type (an HMAC algorithm can never be used with a public key);
 * issuer, audience and `exp` are required.
 */
export function createJwtVerifier(auth: HubConfig['auth']): JwtVerifier | null {
  let key: Uint8Array | KeyObject | JWTVerifyGetKey
  let algorithms: string[]
  if (auth.secret) {
    key = new TextEncoder().encode(auth.secret)
    algorithms = pickAlgorithms(auth.algorithms, HMAC, ['HS256'])
  } else if (auth.publicKey) {
    let publicKey: KeyObject
    try {
      publicKey = createPublicKey(auth.publicKey.replaceAll('\\n', '\n'))
    } catch (cause) {
      throw new HubError('CONFIG_INVALID', 'HUB_JWT_PUBLIC_KEY is not a PEM public key', { cause })
    }
    const { allowed, preferred } = allowedFor(publicKey)
    key = publicKey
    algorithms = pickAlgorithms(auth.algorithms, allowed, preferred)
  } else if (auth.jwksUrl) {
    const remote = createRemoteJWKSet(new URL(auth.jwksUrl), {
      timeoutDuration: 5000,
      cooldownDuration: 30_000,
    })
    key = async (header, token) => {
      try {
        return await remote(header, token)
      } catch (err) {
        // No (or several) matching key: the token's problem. Anything else: the issuer is unreachable.
        if (err instanceof joseErrors.JWKSNoMatchingKey || err instanceof joseErrors.JWKSMultipleMatchingKeys)
          throw err
        throw new HubError('SERVICE_UNAVAILABLE', 'The token issuer keys cannot be fetched; try again', {
          cause: err,
        })
      }
    }
    algorithms = pickAlgorithms(auth.algorithms, ASYMMETRIC, ['RS256', 'PS256', 'ES256', 'EdDSA', 'Ed25519'])
  } else {
    return null
  }
  if (!auth.issuer || !auth.audience) {
    throw new HubError('CONFIG_INVALID', 'JWT verification needs HUB_JWT_ISSUER and HUB_JWT_AUDIENCE')
  }
  const options = {
    algorithms,
    issuer: auth.issuer,
    audience: auth.audience,
    clockTolerance: auth.clockToleranceSec,
    requiredClaims: ['exp', 'iss', 'aud', 'sub'],
  }
  /**
   * jose checks `iat` (not in the future beyond the clock tolerance, not older than the limit) only
   * when `maxTokenAge` is set, and then requires `iat`. With HUB_JWT_MAX_AGE that is the configured
   * age; without it a token that carries `iat` gets an unbounded age so that a future `iat` is still
   * refused, while a token without `iat` stays valid (RFC 7519 makes it optional). Reading the
   * unverified payload only chooses which checks to add; jwtVerify then verifies everything.
   */
  const maxTokenAge = (token: string): number | undefined => {
    if (auth.maxAgeSec !== undefined) return auth.maxAgeSec
    try {
      return decodeJwt(token).iat === undefined ? undefined : Number.MAX_SAFE_INTEGER
    } catch {
      return undefined // not a JWT at all: jwtVerify reports why
    }
  }
  return {
    algorithms,
    async verify(token) {
      const header = decodeProtectedHeader(token)
      for (const name of KEY_LOCATING_HEADERS) {
        if (name in header) throw new HubError('INVALID_TOKEN', `JWT header "${name}" is not accepted`)
      }
      if (header.kid !== undefined && (typeof header.kid !== 'string' || !KID_RE.test(header.kid))) {
        throw new HubError('INVALID_TOKEN', 'JWT header "kid" is malformed')
      }
      const checks = { ...options, maxTokenAge: maxTokenAge(token) }
      // Two calls because jose's overloads differ for a key and a key-resolving function.
      const result = await (typeof key === 'function'
        ? jwtVerify(token, key, checks)
        : jwtVerify(token, key, checks))
      return { payload: result.payload, header: result.protectedHeader }
    },
  }
}
