/**
 * Hand-made JWTs for the token suites: built with node:crypto rather than the library under test,
 * so that an attacker's odd headers (alg none, crit, jwk, jku, …) are exactly what is sent.
 */
import {
  createHmac,
  createPrivateKey,
  generateKeyPairSync,
  type KeyObject,
  sign as rsaSign,
} from 'node:crypto'

export const b64url = (value: unknown): string =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url')

export interface RsaKeys {
  privateKey: KeyObject
  publicPem: string
  publicJwk: Record<string, unknown>
}

export function rsaKeys(): RsaKeys {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  return {
    privateKey,
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    publicJwk: publicKey.export({ format: 'jwk' }) as Record<string, unknown>,
  }
}

/** Sign `header.payload` with RS256 (an RSA KeyObject) or HS256/384/512 (a secret), per header.alg. */
export function signJwt(
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
  key: KeyObject | string | Buffer,
): string {
  const input = `${b64url(header)}.${b64url(payload)}`
  const alg = String(header.alg)
  let signature: Buffer
  if (alg.startsWith('HS')) {
    signature = createHmac(`sha${alg.slice(2)}`, key as string | Buffer)
      .update(input)
      .digest()
  } else if (alg === 'RS256') {
    signature = rsaSign('sha256', Buffer.from(input), key as KeyObject)
  } else {
    throw new Error(`fixture cannot sign ${alg}`)
  }
  return `${input}.${signature.toString('base64url')}`
}

export { createPrivateKey }
