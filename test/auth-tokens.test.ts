import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAuditLog } from '../packages/core/src/audit/index.ts'
import {
  authenticate,
  clientIpMiddleware,
  createApiKey,
  createAuthenticator,
  parseApiKey,
  requireRole,
} from '../packages/core/src/auth/index.ts'
import { loadConfig } from '../packages/core/src/config/index.ts'
import { type MetadataStore, openMetadataStore } from '../packages/core/src/metadata/store.ts'
import { createRateLimiter } from '../packages/core/src/rate-limit/index.ts'
import { problemHandler } from '../packages/core/src/service/errors.ts'
import { requestId } from '../packages/core/src/service/middleware/request-id.ts'
import { createRouter } from '../packages/core/src/service/openapi.ts'
import { keysRoutes } from '../packages/core/src/service/routes/keys.ts'
import { b64url as b64, type RsaKeys, rsaKeys, signJwt } from './auth-jwt.fixture.ts'

const ISSUER = 'https://idp.example.test/'
const AUDIENCE = 'nl2q-hub'
const home = mkdtempSync(join(tmpdir(), 'nl2q-auth-'))
const now = () => Math.floor(Date.now() / 1000)

type Claims = Record<string, unknown>
let store: MetadataStore
let app: ReturnType<typeof createRouter>
const legit: RsaKeys = rsaKeys()
const evil: RsaKeys = rsaKeys()
const publicPem = legit.publicPem

const claims = (extra: Claims = {}): Claims => ({
  iss: ISSUER,
  aud: AUDIENCE,
  sub: 'alice',
  tenant: 'acme',
  roles: ['analyst'],
  exp: now() + 600,
  iat: now(),
  ...extra,
})

/** RS256 with the configured key unless told otherwise. */
async function sign(
  payload: Claims,
  header: Claims = {},
  key: RsaKeys['privateKey'] | string = legit.privateKey,
) {
  return signJwt({ alg: 'RS256', typ: 'JWT', ...header }, payload, key)
}

let n = 0
async function call(path: string, headers: Record<string, string> = {}, method = 'GET') {
  const id = `auth-test-${++n}-${Date.now()}`
  const res = await app.request(
    path,
    { method, headers: { 'X-Request-Id': id, ...headers } },
    { incoming: { socket: { remoteAddress: '198.51.100.7' } } },
  )
  return { res, id }
}

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` })

async function auditRows(requestIdValue: string) {
  return (await store.knex('audit_events').where({ request_id: requestIdValue })) as {
    tenant: string
    action: string
    outcome: string
    detail: string
  }[]
}

/** Refused with `status` as problem+json, never a 500, and the refusal is in the audit trail. */
async function expectRefused(headers: Record<string, string>, status = 401, path = '/v1/protected') {
  const { res, id } = await call(path, headers)
  expect(res.status).toBe(status)
  expect(res.headers.get('content-type')).toContain('application/problem+json')
  const body = (await res.json()) as { code: string; requestId: string }
  expect(body.requestId).toBe(id)
  if (status === 401) expect(res.headers.get('www-authenticate')).toMatch(/^Bearer realm="nl2q"/)
  const rows = await auditRows(id)
  expect(rows).toHaveLength(1)
  expect(rows[0]).toMatchObject({ action: 'auth.failed' })
  return { body, audit: rows[0]!, res }
}

beforeAll(async () => {
  const config = loadConfig({
    HUB_HOME: home,
    HUB_DEMO: 'false',
    HUB_JWT_PUBLIC_KEY: publicPem,
    HUB_JWT_ISSUER: ISSUER,
    HUB_JWT_AUDIENCE: AUDIENCE,
    HUB_RATE_LIMIT_ANON: '100000',
    HUB_RATE_LIMIT: '100000',
  })
  store = openMetadataStore(config.databaseUrl)
  await store.migrate()
  const created_at = new Date().toISOString()
  await store.knex('tenants').insert([
    { id: 'acme', db_url: 'sqlite:acme.sqlite', created_at },
    { id: 'globex', db_url: 'sqlite:globex.sqlite', created_at },
  ])
  // the tenants table is what the registry's exists() reads
  const tenants = {
    exists: async (id: string) => (await store.knex('tenants').where({ id }).first('id')) !== undefined,
  }
  const audit = createAuditLog(store, { home })
  const authenticator = createAuthenticator({ config, metadata: store, tenants })
  const limiter = createRateLimiter({ config, metadata: store })
  app = createRouter()
  app.onError(problemHandler)
  app.use('*', requestId(), clientIpMiddleware({ trustedProxies: [] }))
  app.use('/v1/*', authenticate({ authenticator, audit, limiter }), limiter.middleware())
  app.get('/v1/protected', (c) => c.json(c.get('principal')))
  app.get('/v1/admin-only', requireRole('admin'), (c) => c.json({ ok: true }))
  app.route('/', keysRoutes({ metadata: store }))
  const basicApp = createRouter()
  basicApp.use('*', authenticate({ authenticator, audit, basic: true }))
  basicApp.get('/', (c) => c.json(c.get('principal')))
  app.route('/basic', basicApp)
})

afterAll(async () => {
  await store?.close()
  rmSync(home, { recursive: true, force: true })
})

describe('JWT bearer tokens', () => {
  it('accepts a valid RS256 token and builds the principal from its claims', async () => {
    const token = await sign(
      claims({ roles: 'viewer, analyst bogus', scope: 'read write', territories: ['ACM-T01'], jti: 'j-1' }),
    )
    const { res } = await call('/v1/protected', bearer(token))
    expect(res.status).toBe(200)
    expect(res.headers.get('ratelimit-policy')).toMatch(/^"default";q=\d+;w=60$/)
    expect(await res.json()).toMatchObject({
      tenant: 'acme',
      subject: 'alice',
      roles: ['viewer', 'analyst'],
      attributes: { territories: ['ACM-T01'] },
      credential: { kind: 'jwt', id: 'jwt:j-1', issuer: ISSUER, scopes: ['read', 'write'] },
    })
  })

  it.each(['none', 'None', 'NONE', 'nOnE'])('rejects a token with alg %s', async (alg) => {
    const token = `${b64({ alg, typ: 'JWT' })}.${b64(claims())}.`
    await expectRefused(bearer(token))
  })

  it('rejects an HS256 token signed with the RSA public key (algorithm confusion)', async () => {
    const token = await sign(claims(), { alg: 'HS256' }, publicPem)
    const { audit } = await expectRefused(bearer(token))
    expect(JSON.parse(audit.detail)).toMatchObject({ reason: 'alg_not_allowed' })
  })

  it('rejects a token whose signature was stripped', async () => {
    const [h, p] = (await sign(claims())).split('.')
    await expectRefused(bearer(`${h}.${p}.`))
    await expectRefused(bearer(`${h}.${p}`))
  })

  it('rejects a token whose signature was altered', async () => {
    const token = await sign(claims())
    const [h, p, s] = token.split('.') as [string, string, string]
    const i = Math.floor(s.length / 2)
    const altered = `${s.slice(0, i)}${s[i] === 'A' ? 'B' : 'A'}${s.slice(i + 1)}`
    await expectRefused(bearer(`${h}.${p}.${altered}`))
  })

  it('rejects a token whose payload was altered after signing', async () => {
    const [h, , s] = (await sign(claims())).split('.')
    await expectRefused(bearer(`${h}.${b64(claims({ roles: ['admin'] }))}.${s}`))
  })

  it('rejects an expired token and records the failure in the tenant it proves', async () => {
    const { audit, body } = await expectRefused(bearer(await sign(claims({ exp: now() - 3600 }))))
    expect(body.code).toBe('INVALID_TOKEN')
    // the signature verified, so the tenant claim can be trusted for the audit chain
    expect(audit.tenant).toBe('acme')
    expect(JSON.parse(audit.detail)).toMatchObject({ reason: 'expired' })
  })

  it('accepts a token expired within the clock tolerance', async () => {
    const { res } = await call('/v1/protected', bearer(await sign(claims({ exp: now() - 5 }))))
    expect(res.status).toBe(200)
  })

  it('rejects a token that is not yet valid', async () => {
    await expectRefused(bearer(await sign(claims({ nbf: now() + 3600 }))))
  })

  it('rejects a token issued in the future beyond the clock tolerance, auditing it in its tenant', async () => {
    const { audit } = await expectRefused(bearer(await sign(claims({ iat: now() + 3600 }))))
    expect(audit.tenant).toBe('acme')
    expect(JSON.parse(audit.detail)).toMatchObject({ reason: 'claim_iat' })
  })

  it('accepts a token issued in the future within the clock tolerance, and one without iat', async () => {
    expect((await call('/v1/protected', bearer(await sign(claims({ iat: now() + 5 }))))).res.status).toBe(200)
    const { iat: _iat, ...noIat } = claims()
    expect((await call('/v1/protected', bearer(await sign(noIat)))).res.status).toBe(200)
  })

  it('rejects a token from another issuer', async () => {
    await expectRefused(bearer(await sign(claims({ iss: 'https://evil.example/' }))))
  })

  it('rejects a token for another audience, auditing it in the hub chain (its tenant claim is not ours to trust)', async () => {
    const { audit } = await expectRefused(bearer(await sign(claims({ aud: 'someone-else' }))))
    expect(audit.tenant).toBe('_hub')
  })

  it('rejects a token without exp', async () => {
    const { exp: _exp, ...noExp } = claims()
    await expectRefused(bearer(await sign(noExp)))
  })

  it('rejects a token with an unknown critical header, even when properly signed', async () => {
    const token = await sign(claims(), { crit: ['x-custom'], 'x-custom': 1 })
    await expectRefused(bearer(token))
  })

  it('rejects a token carrying its own key in a jwk header', async () => {
    await expectRefused(bearer(await sign(claims(), { jwk: evil.publicJwk }, evil.privateKey)))
    await expectRefused(bearer(await sign(claims(), { jwk: legit.publicJwk })))
  })

  it.each(['jku', 'x5u'])('rejects a token with a %s header pointing at a key elsewhere', async (name) => {
    await expectRefused(
      bearer(await sign(claims(), { [name]: 'https://evil.example/keys.json' }, evil.privateKey)),
    )
    await expectRefused(bearer(await sign(claims(), { [name]: 'https://evil.example/keys.json' })))
  })

  it.each(['../../etc/passwd', '../../../../dev/null', "' OR 1=1 --", "x'; DROP TABLE api_keys; --"])(
    'rejects a token with kid %j',
    async (kid) => {
      await expectRefused(bearer(await sign(claims(), { kid }, evil.privateKey)))
      await expectRefused(bearer(await sign(claims(), { kid, alg: 'HS256' }, '')))
    },
  )

  it('rejects a properly signed token whose kid contains quotes or spaces', async () => {
    await expectRefused(bearer(await sign(claims(), { kid: "' OR 1=1 --" })))
  })

  it.each([
    'garbage',
    'a.b.c',
    '....',
    'x'.repeat(10_000),
    `${b64({ alg: 'RS256' })}.not-base64!.sig`,
    `${b64('just a string')}.${b64(claims())}.AAAA`,
    'nl2q_zzzz_notakey',
  ])('rejects garbage %#', async (token) => {
    await expectRefused(bearer(token))
  })

  it('rejects a request without credentials, a malformed header and an unknown scheme', async () => {
    const { body } = await expectRefused({})
    expect(body.code).toBe('UNAUTHENTICATED')
    await expectRefused({ Authorization: 'Bearer' })
    await expectRefused({ Authorization: 'Bearer a b' })
    await expectRefused({ Authorization: `Digest ${await sign(claims())}` })
  })

  it('rejects a token naming a tenant that does not exist, auditing it in the hub chain', async () => {
    const { audit } = await expectRefused(bearer(await sign(claims({ tenant: 'ghost' }))))
    expect(audit.tenant).toBe('_hub')
    expect(JSON.parse(audit.detail)).toMatchObject({ reason: 'unknown_tenant' })
  })

  it('rejects a token without a tenant claim', async () => {
    const { tenant: _t, ...noTenant } = claims()
    await expectRefused(bearer(await sign(noTenant)))
  })

  it('answers 403 to a valid token that carries no hub role', async () => {
    const { body, audit } = await expectRefused(bearer(await sign(claims({ roles: ['superuser'] }))), 403)
    expect(body.code).toBe('FORBIDDEN')
    expect(audit).toMatchObject({ tenant: 'acme', outcome: 'denied' })
  })

  it('refuses credentials in the query string even when they are valid', async () => {
    const token = await sign(claims())
    for (const param of ['access_token', 'api_key', 'token']) {
      const { body } = await expectRefused({}, 401, `/v1/protected?${param}=${token}`)
      expect(body).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'credentials_in_query' })
    }
  })

  it('refuses a non-admin on an admin route', async () => {
    const { res } = await call('/v1/admin-only', bearer(await sign(claims())))
    expect(res.status).toBe(403)
  })
})

describe('HUB_JWT_MAX_AGE', () => {
  const checkWithMaxAge = async (maxAge: string, payload: Claims) => {
    const config = loadConfig({
      HUB_HOME: home,
      HUB_JWT_PUBLIC_KEY: publicPem,
      HUB_JWT_ISSUER: ISSUER,
      HUB_JWT_AUDIENCE: AUDIENCE,
      HUB_JWT_MAX_AGE: maxAge,
    })
    const tenants = { exists: (id: string) => id === 'acme' }
    return createAuthenticator({ config, metadata: store, tenants }).checkBearer(await sign(payload))
  }

  it('refuses a token issued longer ago than the maximum age even though exp is still ahead', async () => {
    const outcome = await checkWithMaxAge('1h', claims({ iat: now() - 7200, exp: now() + 86_400 }))
    expect(outcome).toMatchObject({ ok: false, reason: 'max_age', auditTenant: 'acme' })
  })

  it('accepts a token younger than the maximum age', async () => {
    expect(await checkWithMaxAge('3600', claims({ iat: now() - 60 }))).toMatchObject({ ok: true })
  })

  it('requires iat when a maximum age is set', async () => {
    const { iat: _iat, ...noIat } = claims()
    expect(await checkWithMaxAge('1h', noIat)).toMatchObject({ ok: false, reason: 'claim_iat' })
  })

  it('still refuses a future iat with a maximum age set', async () => {
    expect(await checkWithMaxAge('1h', claims({ iat: now() + 3600 }))).toMatchObject({
      ok: false,
      reason: 'claim_iat',
    })
  })
})

describe('API keys', () => {
  it('authenticates with a key, then refuses it on the request after it was revoked', async () => {
    const admin = await createApiKey(store, { tenant: 'acme', role: 'admin' })
    const key = await createApiKey(store, {
      tenant: 'acme',
      role: 'viewer',
      attributes: { territories: ['ACM-T02'] },
    })
    expect(key.secret).toMatch(/^nl2q_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/)
    const stored = await store.knex('api_keys').where({ id: key.id }).first()
    expect(JSON.stringify(stored)).not.toContain(parseApiKey(key.secret)!.secret)
    const ok = await call('/v1/protected', bearer(key.secret))
    expect(ok.res.status).toBe(200)
    expect(await ok.res.json()).toMatchObject({
      tenant: 'acme',
      roles: ['viewer'],
      attributes: { territories: ['ACM-T02'] },
      credential: { kind: 'api_key', id: key.id },
    })
    const del = await call(`/v1/admin/keys/${key.id}`, bearer(admin.secret), 'DELETE')
    expect(del.res.status).toBe(204)
    const { audit } = await expectRefused(bearer(key.secret))
    expect(audit.tenant).toBe('acme')
    expect(JSON.parse(audit.detail)).toMatchObject({ reason: 'revoked' })
  })

  it('refuses a key on the next request after another connection revoked it or removed its tenant', async () => {
    // as `hub key revoke` / `hub tenant remove` in another process do: through their own connection
    const other = openMetadataStore(`sqlite:${join(home, 'hub.sqlite')}`)
    try {
      await store
        .knex('tenants')
        .insert({ id: 'initech', db_url: 'sqlite:i.sqlite', created_at: new Date().toISOString() })
      const revoked = await createApiKey(store, { tenant: 'acme', role: 'viewer' })
      const orphaned = await createApiKey(store, { tenant: 'initech', role: 'viewer' })
      for (const key of [revoked, orphaned])
        expect((await call('/v1/protected', bearer(key.secret))).res.status).toBe(200)
      await other.knex('api_keys').where({ id: revoked.id }).update({ revoked_at: new Date().toISOString() })
      expect(JSON.parse((await expectRefused(bearer(revoked.secret))).audit.detail)).toMatchObject({
        reason: 'revoked',
      })
      await other.knex('tenants').where({ id: 'initech' }).update({ removed_at: new Date().toISOString() })
      expect(JSON.parse((await expectRefused(bearer(orphaned.secret))).audit.detail)).toMatchObject({
        reason: 'unknown_tenant',
      })
    } finally {
      await other.close()
    }
  })

  it('refuses an expired key', async () => {
    const key = await createApiKey(store, { tenant: 'acme', role: 'viewer', expiresInSec: 1 })
    expect((await call('/v1/protected', bearer(key.secret))).res.status).toBe(200)
    await new Promise((r) => setTimeout(r, 1100))
    const { audit } = await expectRefused(bearer(key.secret))
    expect(JSON.parse(audit.detail)).toMatchObject({ reason: 'expired' })
  })

  it('refuses a key with the right id and a wrong secret', async () => {
    const key = await createApiKey(store, { tenant: 'acme', role: 'viewer' })
    const forged = `${key.secret.slice(0, -4)}AAAA`
    const { audit } = await expectRefused(bearer(forged))
    expect(audit).toMatchObject({ tenant: 'acme' })
  })

  it('accepts HTTP Basic with the key as password only where Basic is enabled', async () => {
    const key = await createApiKey(store, { tenant: 'globex', role: 'integration' })
    const basic = { Authorization: `Basic ${Buffer.from(`powerbi:${key.secret}`).toString('base64')}` }
    const { res } = await call('/basic', basic)
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ tenant: 'globex', roles: ['integration'] })
    await expectRefused(basic)
    const bad = await call('/basic', { Authorization: `Basic ${Buffer.from('u:nope').toString('base64')}` })
    expect(bad.res.status).toBe(401)
    expect(bad.res.headers.get('www-authenticate')).toContain('Basic realm="nl2q"')
  })

  it('answers 404 when tenant A’s admin revokes tenant B’s key, and audits the attempt in A', async () => {
    const adminA = await createApiKey(store, { tenant: 'acme', role: 'admin' })
    const keyB = await createApiKey(store, { tenant: 'globex', role: 'viewer' })
    const { res, id } = await call(`/v1/admin/keys/${keyB.id}`, bearer(adminA.secret), 'DELETE')
    expect(res.status).toBe(404)
    expect(await auditRows(id)).toMatchObject([{ tenant: 'acme', action: 'key.revoked', outcome: 'failure' }])
    expect((await call('/v1/protected', bearer(keyB.secret))).res.status).toBe(200)
  })

  it('lets a tenant admin create and list keys of their own tenant only, never showing hashes', async () => {
    const admin = await createApiKey(store, { tenant: 'globex', role: 'admin' })
    const created = await app.request(
      '/v1/admin/keys',
      {
        method: 'POST',
        headers: { ...bearer(admin.secret), 'content-type': 'application/json' },
        body: JSON.stringify({ role: 'analyst', attributes: { territories: 'GLX-T01' }, label: 'bi' }),
      },
      { incoming: { socket: { remoteAddress: '198.51.100.7' } } },
    )
    expect(created.status).toBe(201)
    const key = (await created.json()) as { id: string; secret: string; tenant: string }
    expect(key).toMatchObject({ tenant: 'globex', role: 'analyst', attributes: { territories: ['GLX-T01'] } })
    const list = await call('/v1/admin/keys', bearer(admin.secret))
    const text = await list.res.text()
    expect(text).toContain(key.id)
    expect(text).not.toContain('secret')
    expect(text).not.toContain('hash')
    expect(JSON.parse(text).items.every((k: { tenant: string }) => k.tenant === 'globex')).toBe(true)
    expect(await auditRows(list.id)).toMatchObject([
      { tenant: 'globex', action: 'key.list', outcome: 'success' },
    ])
    const events = await store.knex('audit_events').where({ tenant: 'globex', action: 'key.created' })
    expect(events.some((e: { resource: string }) => e.resource === `api_key:${key.id}`)).toBe(true)
  })

  it('writes last_used_at at most once a minute per key, not on every request', async () => {
    const key = await createApiKey(store, { tenant: 'acme', role: 'viewer' })
    let updates = 0
    const onQuery = (q: { sql: string }) => {
      if (/^update [`"]api_keys[`"] set [`"]last_used_at/i.test(q.sql)) updates += 1
    }
    store.knex.on('query', onQuery)
    try {
      for (let i = 0; i < 50; i++)
        expect((await call('/v1/protected', bearer(key.secret))).res.status).toBe(200)
    } finally {
      store.knex.off('query', onQuery)
    }
    expect(updates).toBe(1)
    expect((await store.knex('api_keys').where({ id: key.id }).first()).last_used_at).not.toBeNull()
  })
})

describe('when the audit trail cannot be written', () => {
  it('answers AUDIT_UNAVAILABLE instead of a silent 401', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nl2q-auth-down-'))
    const broken = openMetadataStore(`sqlite:${join(dir, 'hub.sqlite')}`)
    try {
      await broken.migrate()
      await broken.knex.schema.renameTable('audit_events', 'audit_events_gone')
      const config = loadConfig({ HUB_HOME: dir, HUB_DEMO: 'false' })
      const down = createRouter()
      down.onError(problemHandler)
      down.use(
        '*',
        authenticate({
          authenticator: createAuthenticator({ config, metadata: broken, tenants: { exists: () => true } }),
          audit: createAuditLog(broken),
        }),
      )
      down.get('/x', (c) => c.text('never'))
      const res = await down.request('/x', { headers: bearer('garbage') })
      expect(res.status).toBe(503)
      expect(await res.json()).toMatchObject({ code: 'AUDIT_UNAVAILABLE' })
    } finally {
      await broken.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
