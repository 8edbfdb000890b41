import { describe, expect, it } from 'vitest'
import { attributesFrom, rolesFrom, scopesFrom, tenantFrom, tokenId } from './claims.ts'

describe('JWT claim mapping', () => {
  it('reads roles from an array or a space/comma separated string and drops unknown ones', () => {
    expect(rolesFrom(['admin', 'root', 'viewer'])).toEqual(['admin', 'viewer'])
    expect(rolesFrom('analyst viewer,integration')).toEqual(['analyst', 'viewer', 'integration'])
    expect(rolesFrom('Admin')).toEqual([])
    expect(rolesFrom(42)).toEqual([])
    expect(rolesFrom(['viewer', 'viewer'])).toEqual(['viewer'])
  })

  it('reads attributes from an attributes object and a territories claim', () => {
    expect(
      attributesFrom({
        attributes: { region: 'NE', brands: ['A', 3, 'B'], nested: { x: 1 } },
        territories: 'T1',
      }),
    ).toEqual({ region: ['NE'], brands: ['A', 'B'], territories: ['T1'] })
    expect(attributesFrom({ attributes: ['not', 'an', 'object'] })).toEqual({})
    expect(attributesFrom({ attributes: { territories: ['T1'] }, territories: ['T1', 'T2'] })).toEqual({
      territories: ['T1', 'T2'],
    })
  })

  it('reads scopes from scope or scp', () => {
    expect(scopesFrom({ scope: 'read write' })).toEqual(['read', 'write'])
    expect(scopesFrom({ scp: ['a', 'b'] })).toEqual(['a', 'b'])
    expect(scopesFrom({ scp: 'x' })).toEqual(['x'])
    expect(scopesFrom({})).toEqual([])
  })

  it('takes the tenant from the configured claim only when it is a short string', () => {
    const names = { tenantClaim: 'https://nl2q/tenant', rolesClaim: 'roles' }
    expect(tenantFrom({ 'https://nl2q/tenant': 'acme', tenant: 'other' }, names)).toBe('acme')
    expect(tenantFrom({ 'https://nl2q/tenant': ['acme'] }, names)).toBeNull()
    expect(tenantFrom({ 'https://nl2q/tenant': '' }, names)).toBeNull()
  })

  it('names a token by jti, else by a fingerprint that never contains the token', () => {
    expect(tokenId({ jti: 'abc' }, 'tok')).toBe('jwt:abc')
    const id = tokenId({}, 'header.payload.signature')
    expect(id).toMatch(/^jwt:sha256:[0-9a-f]{32}$/)
    expect(id).not.toContain('signature')
  })
})
