import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'

/** `nl2q_<id>_<secret>`: the id (16 hex) is looked up by primary key; the secret carries 256 random bits. */
const KEY_RE = /^nl2q_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/
export const API_KEY_PREFIX = 'nl2q_'

export interface ParsedApiKey {
  id: string
  secret: string
}

export function generateApiKey(): ParsedApiKey & { key: string } {
  const id = randomBytes(8).toString('hex')
  const secret = randomBytes(32).toString('base64url')
  return { id, secret, key: `${API_KEY_PREFIX}${id}_${secret}` }
}

/** The id and secret of a well-formed key, or null (never throws on garbage). */
export function parseApiKey(key: string): ParsedApiKey | null {
  const m = KEY_RE.exec(key)
  return m ? { id: m[1]!, secret: m[2]! } : null
}

/** SHA-256 is enough for a 256-bit random secret: there is nothing to brute-force or look up. */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex')
}

export function secretMatches(secret: string, storedHash: string): boolean {
  const actual = Buffer.from(hashSecret(secret), 'hex')
  const expected = Buffer.from(storedHash, 'hex')
  return actual.length === expected.length && timingSafeEqual(actual, expected)
}
