import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Authenticator, createAuthenticator } from '../packages/core/src/auth/index.ts'
import { loadConfig } from '../packages/core/src/config/index.ts'
import { type MetadataStore, openMetadataStore } from '../packages/core/src/metadata/store.ts'
import { rsaKeys, signJwt } from './auth-jwt.fixture.ts'

const ISSUER = 'https://login.example.test'
const AUDIENCE = 'api://nl2q'
const now = () => Math.floor(Date.now() / 1000)
const claims = (extra: Record<string, unknown> = {}) => ({
  iss: ISSUER,
  aud: AUDIENCE,
  sub: 'bob',
  tenant: 'acme',
  roles: 'viewer',
  exp: now() + 300,
  ...extra,
})

/** A JWKS endpoint on 127.0.0.1 that counts how often it was asked. */
async function jwksServer(
  jwks: unknown,
): Promise<{ url: string; hits: () => number; close(): Promise<void> }> {
  let hits = 0
  const server: Server = createServer((_req, res) => {
    hits += 1
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(jwks))
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    hits: () => hits,
    close: () => new Promise((r) => server.close(() => r())),
  }
}

const legit = rsaKeys()
const evil = rsaKeys()
const home = mkdtempSync(join(tmpdir(), 'nl2q-jwks-'))
let store: MetadataStore
let idp: Awaited<ReturnType<typeof jwksServer>>
let attackerKeys: Awaited<ReturnType<typeof jwksServer>>
let auth: Authenticator
const tenants = { exists: (id: string) => id === 'acme' }

beforeAll(async () => {
  store = openMetadataStore(`sqlite:${join(home, 'hub.sqlite')}`)
  await store.migrate()
  idp = await jwksServer({ keys: [{ ...legit.publicJwk, kid: 'k1', alg: 'RS256', use: 'sig' }] })
  attackerKeys = await jwksServer({ keys: [{ ...evil.publicJwk, kid: 'k1', alg: 'RS256', use: 'sig' }] })
  const config = loadConfig({
    HUB_HOME: home,
    HUB_JWKS_URL: idp.url,
    HUB_JWT_ISSUER: ISSUER,
    HUB_JWT_AUDIENCE: AUDIENCE,
  })
  auth = createAuthenticator({ config, metadata: store, tenants })
})
afterAll(async () => {
  await idp?.close()
  await attackerKeys?.close()
  await store?.close()
  rmSync(home, { recursive: true, force: true })
})

describe('JWTs verified against a JWKS URL', () => {
  it('accepts a token signed by a key of the set, outside any HTTP request', async () => {
    const principal = await auth.verifyBearer(
      signJwt({ alg: 'RS256', kid: 'k1' }, claims(), legit.privateKey),
    )
    expect(principal).toMatchObject({
      tenant: 'acme',
      subject: 'bob',
      roles: ['viewer'],
      credential: { issuer: ISSUER },
    })
  })

  it('rejects a kid that is not in the set', async () => {
    const outcome = await auth.checkBearer(signJwt({ alg: 'RS256', kid: 'k2' }, claims(), legit.privateKey))
    expect(outcome).toMatchObject({
      ok: false,
      reason: 'unknown_kid',
      error: { code: 'INVALID_TOKEN', status: 401 },
    })
  })

  it.each(['../../etc/passwd', "' OR 1=1 --"])('rejects kid %j', async (kid) => {
    await expect(
      auth.verifyBearer(signJwt({ alg: 'RS256', kid }, claims(), evil.privateKey)),
    ).rejects.toMatchObject({
      status: 401,
    })
  })

  it('never fetches keys from a jku or x5u the token names', async () => {
    for (const header of ['jku', 'x5u']) {
      const token = signJwt(
        { alg: 'RS256', kid: 'k1', [header]: attackerKeys.url },
        claims(),
        evil.privateKey,
      )
      await expect(auth.verifyBearer(token)).rejects.toMatchObject({ code: 'INVALID_TOKEN' })
    }
    expect(attackerKeys.hits()).toBe(0)
  })

  it('rejects a token signed by an attacker key with the legitimate kid', async () => {
    await expect(
      auth.verifyBearer(signJwt({ alg: 'RS256', kid: 'k1' }, claims(), evil.privateKey)),
    ).rejects.toMatchObject({ code: 'INVALID_TOKEN' })
  })

  it('answers 503, not 401, when the key set cannot be fetched', async () => {
    const down = await jwksServer({})
    await down.close()
    const config = loadConfig({
      HUB_HOME: home,
      HUB_JWKS_URL: down.url,
      HUB_JWT_ISSUER: ISSUER,
      HUB_JWT_AUDIENCE: AUDIENCE,
    })
    const offline = createAuthenticator({ config, metadata: store, tenants })
    await expect(
      offline.verifyBearer(signJwt({ alg: 'RS256', kid: 'k1' }, claims(), legit.privateKey)),
    ).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE', status: 503 })
  })
})

describe('JWTs with a shared HS256 secret', () => {
  const secret = 'x'.repeat(40)
  const config = () =>
    loadConfig({ HUB_HOME: home, HUB_JWT_SECRET: secret, HUB_JWT_ISSUER: ISSUER, HUB_JWT_AUDIENCE: AUDIENCE })

  it('accepts HS256 and refuses RS256 and HS512', async () => {
    const hs = createAuthenticator({ config: config(), metadata: store, tenants })
    await expect(hs.verifyBearer(signJwt({ alg: 'HS256' }, claims(), secret))).resolves.toMatchObject({
      tenant: 'acme',
    })
    await expect(
      hs.verifyBearer(signJwt({ alg: 'RS256' }, claims(), legit.privateKey)),
    ).rejects.toMatchObject({
      code: 'INVALID_TOKEN',
    })
    await expect(hs.verifyBearer(signJwt({ alg: 'HS512' }, claims(), secret))).rejects.toMatchObject({
      code: 'INVALID_TOKEN',
    })
  })

  it('refuses at start-up an allow-list that does not fit the key type', () => {
    const pem = loadConfig({
      HUB_HOME: home,
      HUB_JWT_PUBLIC_KEY: legit.publicPem,
      HUB_JWT_ISSUER: ISSUER,
      HUB_JWT_AUDIENCE: AUDIENCE,
      HUB_JWT_ALGORITHMS: 'RS256,HS256',
    })
    expect(() => createAuthenticator({ config: pem, metadata: store, tenants })).toThrow(/HS256/)
  })
})
