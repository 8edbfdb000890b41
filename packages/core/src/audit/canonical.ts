import { createHash, createHmac } from 'node:crypto'

/** The `prev_hash` of a tenant's first event. */
export const GENESIS_HASH = '0'.repeat(64)

/**
 * Canonical JSON (RFC 8785 style): object keys sorted by code unit, no whitespace. For the values
 * the audit log holds (strings, safe integers, null, nested plain objects and arrays) this equals
 * JCS, since `JSON.stringify` already serialises strings and numbers the way JCS does.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null'
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex')
}

/** hash(event) = SHA-256(previous hash || canonical JSON of the event, which includes its seq). */
export function chainHash(prevHash: string, record: object): string {
  return createHash('sha256').update(prevHash, 'utf8').update(canonicalJson(record), 'utf8').digest('hex')
}

export function hmacHex(key: Buffer, text: string): string {
  return createHmac('sha256', key).update(text, 'utf8').digest('hex')
}
