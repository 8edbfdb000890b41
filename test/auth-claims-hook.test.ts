import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAuthenticator } from '../packages/core/src/auth/index.ts'
import { loadConfig } from '../packages/core/src/config/index.ts'
import { claimsMapper } from '../packages/core/src/connectors/context.ts'
import type { Connector, GrantedClaims, VerifiedToken } from '../packages/core/src/connectors/contract.ts'
import { HubError } from '../packages/core/src/errors.ts'
import { type MetadataStore, openMetadataStore } from '../packages/core/src/metadata/store.ts'

const SECRET = 'a-test-secret-that-is-at-least-32-chars!'
const ISSUER = 'https://idp.example.test'
const home = mkdtempSync(join(tmpdir(), 'nl2q-claims-hook-'))
let store: MetadataStore
const tenants = { exists: (id: string) => id === 'acme' }
const now = () => Math.floor(Date.now() / 1000)

async function hs256(claims: Record<string, unknown>): Promise<string> {
  const { SignJWT } = await import('jose')
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer(ISSUER)
    .setAudience('hub')
    .setExpirationTime(now() + 300)
    .sign(new TextEncoder().encode(SECRET))
}

const config = () =>
  loadConfig({ HUB_HOME: home, HUB_JWT_SECRET: SECRET, HUB_JWT_ISSUER: ISSUER, HUB_JWT_AUDIENCE: 'hub' })
const authWith = (mapClaims?: (t: VerifiedToken) => Promise<GrantedClaims | undefined>) =>
  createAuthenticator({ config: config(), metadata: store, tenants, ...(mapClaims ? { mapClaims } : {}) })

beforeAll(async () => {
  store = openMetadataStore(`sqlite:${join(home, 'hub.sqlite')}`)
  await store.migrate()
})
afterAll(async () => {
  await store?.close()
  rmSync(home, { recursive: true, force: true })
})

describe('the connector claims hook on the JWT path', () => {
  it('adds the granted role and attributes to the token’s own', async () => {
    const seen: VerifiedToken[] = []
    const auth = authWith(async (t) => {
      seen.push(t)
      return { roles: ['analyst'], attributes: { territories: ['T2'] } }
    })
    const outcome = await auth.checkBearer(
      await hs256({ sub: 'u1', tenant: 'acme', roles: 'viewer', territories: ['T1'], grp: ['g'] }),
    )
    expect(outcome).toMatchObject({
      ok: true,
      principal: { roles: ['viewer', 'analyst'], attributes: { territories: ['T1', 'T2'] } },
    })
    expect(seen[0]).toMatchObject({ tenant: 'acme', issuer: ISSUER, subject: 'u1', claims: { grp: ['g'] } })
  })

  it('lets a grant alone make a token without hub roles usable', async () => {
    const auth = authWith(async () => ({ roles: ['viewer'], attributes: {} }))
    const outcome = await auth.checkBearer(await hs256({ sub: 'u2', tenant: 'acme' }))
    expect(outcome).toMatchObject({ ok: true, principal: { roles: ['viewer'] } })
  })

  it('is not asked for a tenant that does not exist', async () => {
    let asked = 0
    const auth = authWith(async () => {
      asked += 1
      return undefined
    })
    const outcome = await auth.checkBearer(await hs256({ sub: 'u3', tenant: 'nope', roles: 'admin' }))
    expect(outcome).toMatchObject({ ok: false, reason: 'unknown_tenant' })
    expect(asked).toBe(0)
  })

  it('refuses the token when the hook throws, audited in the token’s tenant with the hook’s reason', async () => {
    const auth = authWith(async () => {
      throw new HubError('FORBIDDEN', 'directory unreachable', { details: { reason: 'groups_unavailable' } })
    })
    const outcome = await auth.checkBearer(await hs256({ sub: 'u4', tenant: 'acme', roles: 'admin' }))
    expect(outcome).toMatchObject({
      ok: false,
      reason: 'claims_groups_unavailable',
      auditTenant: 'acme',
      subject: 'u4',
      error: { code: 'FORBIDDEN', status: 403 },
    })
  })

  it('treats a hook bug as a server fault, never as a grant', async () => {
    const auth = authWith(async () => {
      throw new TypeError('boom')
    })
    const outcome = await auth.checkBearer(await hs256({ sub: 'u5', tenant: 'acme', roles: 'admin' }))
    expect(outcome).toMatchObject({ ok: false, reason: 'claims_mapping_failed', error: { code: 'INTERNAL' } })
  })

  it('combines the grants of several connectors and skips the ones that decline', async () => {
    const conn = (name: string, grant: GrantedClaims | undefined): Connector => ({
      name,
      mapClaims: async () => grant,
    })
    const runtime = { claimsContext: async () => ({}) } as never
    const mapper = claimsMapper([
      { connector: conn('one', { roles: ['viewer'], attributes: { territories: ['A'] } }), runtime },
      { connector: conn('two', undefined), runtime },
      { connector: conn('three', { roles: ['analyst'], attributes: { territories: ['B', 'A'] } }), runtime },
    ])
    expect(await mapper?.({ tenant: 'acme', issuer: ISSUER, subject: 's', claims: {} })).toEqual({
      roles: ['viewer', 'analyst'],
      attributes: { territories: ['A', 'B'] },
    })
    expect(claimsMapper([{ connector: { name: 'none' }, runtime }])).toBeUndefined()
  })
})
