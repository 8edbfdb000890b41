import { createHash, createHmac } from 'node:crypto'
import { canonicalJson, sha256Hex } from '../canonical/index.ts'

export { canonicalJson, sha256Hex }

/** The `prev_hash` of a tenant's first event. */
export const GENESIS_HASH = '0'.repeat(64)

/** hash(event) = SHA-256(previous hash || canonical JSON of the event, which includes its seq). */
export function chainHash(prevHash: string, record: object): string {
  return createHash('sha256').update(prevHash, 'utf8').update(recordJson(record), 'utf8').digest('hex')
}

/** The members of an audit record (AuditRecord), in canonical (code unit) order. */
const RECORD_KEYS = [
  'tenant',
  'seq',
  'time',
  'subject',
  'credentialId',
  'action',
  'resource',
  'requestId',
  'clientIp',
  'channel',
  'outcome',
  'rowCount',
  'durationMs',
  'questionHash',
  'planHash',
  'sqlHash',
  'detail',
].sort()
const RECORD_PREFIXES = RECORD_KEYS.map((k, i) => `${i === 0 ? '{' : ','}${JSON.stringify(k)}:`)

/**
 * canonicalJson of an audit record, written in the known key order instead of sorting the keys of
 * every event (the same bytes: canonical.test.ts compares both). Anything shaped otherwise takes the
 * general path.
 */
export function recordJson(record: object): string {
  const r = record as Record<string, unknown>
  if (Object.keys(r).length !== RECORD_KEYS.length) return canonicalJson(record)
  let out = ''
  for (let i = 0; i < RECORD_KEYS.length; i++) {
    const value = r[RECORD_KEYS[i] as string]
    if (value === undefined) return canonicalJson(record)
    out += RECORD_PREFIXES[i] + canonicalJson(value)
  }
  return `${out}}`
}

export function hmacHex(key: Buffer, text: string): string {
  return createHmac('sha256', key).update(text, 'utf8').digest('hex')
}
