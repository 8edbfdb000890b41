import { describe, expect, it } from 'vitest'
import type { Principal } from '../principal.ts'
import { canonicalJson } from './canonical-json.ts'
import { planHash, policyKey } from './keys.ts'

const principal = (over: Partial<Principal> = {}): Principal => ({
  tenant: 'acme',
  subject: 'u1',
  roles: ['viewer', 'analyst'],
  attributes: { region: ['west', 'east'], brand: ['b'] },
  credential: { kind: 'api_key', id: 'k1', expiresAt: null, scopes: [] },
  ...over,
})

describe('canonical keys', () => {
  it('keeps the audit chain bytes: keys sorted by code unit, undefined members dropped', () => {
    expect(canonicalJson({ b: 1, B: 2, a: { y: undefined, x: [1, 'é'] } })).toBe(
      '{"B":2,"a":{"x":[1,"é"]},"b":1}',
    )
  })

  it('gives one policy key whatever the order or repetition of roles and attribute values', () => {
    const reordered = principal({
      roles: ['analyst', 'viewer', 'analyst'],
      attributes: { brand: ['b', 'b'], region: ['east', 'west'] },
      subject: 'someone else',
      credential: { kind: 'jwt', id: 'k2', expiresAt: null, scopes: [] },
    })
    expect(policyKey(reordered)).toBe(policyKey(principal()))
  })

  it('changes the policy key with the tenant, a role or an attribute value', () => {
    const base = policyKey(principal())
    expect(policyKey(principal({ tenant: 'globex' }))).not.toBe(base)
    expect(policyKey(principal({ roles: ['viewer'] }))).not.toBe(base)
    expect(policyKey(principal({ attributes: { region: ['west'], brand: ['b'] } }))).not.toBe(base)
  })

  it('hashes a plan independently of its key order', () => {
    expect(planHash({ dataset: 'd', limit: 1 } as never)).toBe(planHash({ limit: 1, dataset: 'd' } as never))
  })
})
