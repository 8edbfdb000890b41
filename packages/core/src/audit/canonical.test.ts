import { describe, expect, it } from 'vitest'
import { canonicalJson, chainHash, GENESIS_HASH } from './canonical.ts'

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
