import { describe, expect, it } from 'vitest'
import type { Principal } from '../principal.ts'
import { noteTenantLive, TENANT_LIVENESS_WINDOW_MS, tenantReadLive } from './tenant-liveness.ts'

const principal = (): Principal => ({
  tenant: 'acme',
  subject: 'apikey:0123456789abcdef',
  roles: ['viewer'],
  attributes: {},
  credential: { kind: 'api_key', id: '0123456789abcdef', expiresAt: null, scopes: [] },
})

describe('tenant liveness read by the authenticator', () => {
  it('stands in for another read of the same principal within one request’s span only', () => {
    const p = principal()
    expect(tenantReadLive(p, 1000)).toBe(false)
    noteTenantLive(p, 1000)
    expect(tenantReadLive(p, 1000 + TENANT_LIVENESS_WINDOW_MS - 1)).toBe(true)
    expect(tenantReadLive(p, 1000 + TENANT_LIVENESS_WINDOW_MS)).toBe(false)
  })

  it('belongs to the principal object the authenticator built, not to an equal one', () => {
    const p = principal()
    noteTenantLive(p, 1000)
    expect(tenantReadLive(principal(), 1000)).toBe(false)
  })
})
