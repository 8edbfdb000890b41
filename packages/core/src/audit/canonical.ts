import { createHash, createHmac } from 'node:crypto'
import { canonicalJson, sha256Hex } from '../canonical/index.ts'

export { canonicalJson, sha256Hex }

/** The `prev_hash` of a tenant's first event. */
export const GENESIS_HASH = '0'.repeat(64)

/** hash(event) = SHA-256(previous hash || canonical JSON of the event, which includes its seq). */
export function chainHash(prevHash: string, record: object): string {
  return createHash('sha256').update(prevHash, 'utf8').update(canonicalJson(record), 'utf8').digest('hex')
}

export function hmacHex(key: Buffer, text: string): string {
  return createHmac('sha256', key).update(text, 'utf8').digest('hex')
}
