import { describe, expect, it } from 'vitest'
import type { Principal } from '../principal.ts'
import { rateLimitHeaders } from './headers.ts'
import { limitFor } from './tenant-limits.ts'

const principal = (...roles: Principal['roles']): Principal => ({
  tenant: 't',
  subject: 's',
  roles,
  attributes: {},
  credential: { kind: 'api_key', id: 'k', expiresAt: null, scopes: [] },
})

describe('rate limit per tenant and role', () => {
  it('uses the highest limit among the roles, then the tenant default, then the hub default', () => {
    const settings = { rateLimits: { analyst: 200, viewer: 50, default: 80 } }
    expect(limitFor(principal('analyst', 'viewer'), settings, 100)).toBe(200)
    expect(limitFor(principal('admin'), settings, 100)).toBe(80)
    expect(limitFor(principal('admin'), {}, 100)).toBe(100)
    expect(limitFor(principal('viewer'), { rateLimits: { viewer: -1 } }, 100)).toBe(100)
  })

  it('formats the IETF RateLimit headers', () => {
    expect(
      rateLimitHeaders({ policy: 'default', limit: 100, remaining: 42, windowSec: 60, resetSec: 17 }),
    ).toEqual({
      'RateLimit-Policy': '"default";q=100;w=60',
      RateLimit: '"default";r=42;t=17',
    })
  })
})
