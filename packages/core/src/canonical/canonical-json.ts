import { createHash } from 'node:crypto'

/**
 * Canonical JSON (RFC 8785 style): object keys sorted by code unit, `undefined` members dropped,
 * no whitespace. For the values the hub hashes (strings, safe integers, null, nested plain objects
 * and arrays) this equals JCS, since `JSON.stringify` already serialises strings and numbers the way
 * JCS does. The audit chain hashes these exact bytes: changing them breaks every existing chain.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null'
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`
}

/** SHA-256 of UTF-8 text, as 64 hex digits. */
export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex')
}

/** SHA-256 of a value's canonical JSON: equal values hash equally whatever their key order. */
export function canonicalHash(value: unknown): string {
  return sha256Hex(canonicalJson(value))
}
