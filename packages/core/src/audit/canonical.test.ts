import { describe, expect, it } from 'vitest'
import { canonicalJson, chainHash, GENESIS_HASH, recordJson } from './canonical.ts'

describe('canonical JSON and chain hashes', () => {
  it('sorts keys at every depth and drops undefined members', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { z: null, y: 'é' }], c: undefined } })).toBe(
      '{"a":{"d":[2,{"y":"é","z":null}]},"b":1}',
    )
  })

  it('gives the same hash for the same event whatever the key order', () => {
    expect(chainHash(GENESIS_HASH, { seq: 1, action: 'x' })).toBe(
      chainHash(GENESIS_HASH, { action: 'x', seq: 1 }),
    )
  })

  it('changes the hash when the seq or the previous hash changes', () => {
    const h = chainHash(GENESIS_HASH, { seq: 1, action: 'x' })
    expect(chainHash(GENESIS_HASH, { seq: 2, action: 'x' })).not.toBe(h)
    expect(chainHash('1'.repeat(64), { seq: 1, action: 'x' })).not.toBe(h)
  })
})

describe('recordJson (the audit record fast path)', () => {
  const record = {
    tenant: 'acme',
    seq: 7,
    time: '2026-01-01T00:00:00.000Z',
    subject: 'apikey:0123456789abcdef',
    credentialId: '0123456789abcdef',
    action: 'data.ask',
    resource: null,
    requestId: 'req-1',
    clientIp: '127.0.0.1',
    channel: 'api',
    outcome: 'success',
    rowCount: 3,
    durationMs: 0,
    questionHash: 'ab'.repeat(32),
    planHash: 'cd'.repeat(32),
    sqlHash: null,
    detail: { cached: true, nested: { z: 1, a: ['é', null] } },
  }

  it('writes the same bytes as canonicalJson for an audit record', () => {
    expect(recordJson(record)).toBe(canonicalJson(record))
    expect(recordJson({ ...record, detail: null, subject: 'quote " and \\u2028' })).toBe(
      canonicalJson({ ...record, detail: null, subject: 'quote " and \\u2028' }),
    )
  })

  it('falls back to canonicalJson for anything shaped otherwise', () => {
    const { tenant: _t, ...missing } = record
    for (const other of [
      missing,
      { ...missing, other: 'x' },
      { ...record, extra: 1 },
      { ...record, detail: undefined },
    ])
      expect(recordJson(other)).toBe(canonicalJson(other))
  })
})
