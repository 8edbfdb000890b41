import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type ConnectorMetrics, HubError, type VerifiedToken } from '@nl2q/core'
import pino from 'pino'
import { Counter, Registry } from 'prom-client'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createGroupsMapper } from './claims.ts'
import { M365Config } from './config.ts'
import { MembershipCache } from './groups.ts'
import { type GraphEmulator, startGraphEmulator } from './testing/graph-emulator.ts'
import { makeClientCertificate } from './testing/tls-certs.ts'

const ISSUER = 'https://login.microsoftonline.com/dir-1/v2.0'
const ANALYSTS = 'a1111111-0000-0000-0000-000000000001'
const REPS = 'b2222222-0000-0000-0000-000000000002'
let graph: GraphEmulator
let dir: string
let caFile: string
const clientCert = makeClientCertificate()

beforeAll(async () => {
  graph = await startGraphEmulator()
  dir = mkdtempSync(join(tmpdir(), 'nl2q-m365-'))
  caFile = join(dir, 'ca.pem')
  writeFileSync(caFile, graph.caPem)
  graph.registerApp('app-secret', { directory: 'dir-1', secret: 's3cret' })
  graph.registerApp('app-cert', { directory: 'dir-1', certPem: clientCert.certPem })
})
afterAll(async () => {
  await graph?.close()
  rmSync(dir, { recursive: true, force: true })
})
beforeEach(() => {
  graph.requests.length = 0
  graph.pageSize = 100
  graph.down = false
})

function context(
  settings: Record<string, string>,
  secrets: Record<string, string> = { client_secret: 's3cret' },
) {
  return {
    config: M365Config.parse({
      issuer: ISSUER,
      directory: 'dir-1',
      client_id: 'app-secret',
      graph_url: graph.url,
      login_url: graph.url,
      ca_file: caFile,
      groups: JSON.stringify({
        [ANALYSTS]: { role: 'analyst' },
        [REPS]: { role: 'viewer', attributes: { territories: ['ACM-T01', 'ACM-T02'] } },
      }),
      ...settings,
    }),
    secrets: { get: async (n: string) => secrets[n], require: async (n: string) => secrets[n] ?? '' },
    logger: pino({ level: 'silent' }),
    metrics: {
      counter: (name: string, help: string, labelNames: string[] = []) =>
        new Counter({ name: `nl2q_m365_${name}`, help, labelNames, registers: [new Registry()] }),
    } as unknown as ConnectorMetrics,
  }
}

const token = (claims: Record<string, unknown>, oid = 'user-1'): VerifiedToken => ({
  tenant: 'acme',
  issuer: ISSUER,
  subject: `sub-${oid}`,
  claims: { iss: ISSUER, oid, tid: 'dir-1', ...claims },
})
const overage = {
  _claim_names: { groups: 'src1' },
  _claim_sources: { src1: { endpoint: 'https://graph.windows.net/x' } },
}
const filler = (n: number) =>
  Array.from({ length: n }, (_, i) => `f${String(i).padStart(7, '0')}-0000-0000-0000-000000000000`)

describe('Entra groups → hub roles', () => {
  it('maps the groups claim without calling Graph when the token carries every group', async () => {
    const grant = await createGroupsMapper()(token({ groups: [REPS, 'unmapped'] }), context({}))
    expect(grant).toEqual({ roles: ['viewer'], attributes: { territories: ['ACM-T01', 'ACM-T02'] } })
    expect(graph.requests).toEqual([])
  })

  it('leaves tokens of another issuer to the token itself', async () => {
    const other = { ...token({ groups: [ANALYSTS] }), issuer: 'https://evil.example/v2.0' }
    expect(await createGroupsMapper()(other, context({}))).toBeUndefined()
  })

  it('reads the groups from Graph on overage, following @odata.nextLink across 3 pages', async () => {
    graph.pageSize = 3
    graph.setMemberships('user-p', [...filler(6), REPS])
    const grant = await createGroupsMapper()(token(overage, 'user-p'), context({}))
    expect(grant?.roles).toEqual(['viewer'])
    const pages = graph.requests.filter((r) => r.route === 'memberOf')
    expect(pages).toHaveLength(3)
    expect(pages.every((r) => r.status === 200 && r.authorized)).toBe(true)
    expect(pages[2]?.path).toContain('skiptoken=X6')
  })

  it('treats hasgroups (implicit flow overage) the same way', async () => {
    graph.setMemberships('user-h', [ANALYSTS])
    const grant = await createGroupsMapper()(token({ hasgroups: true }, 'user-h'), context({}))
    expect(grant?.roles).toEqual(['analyst'])
  })

  it('caches a user for groups_ttl_sec and asks again for another user', async () => {
    graph.setMemberships('user-c', [ANALYSTS])
    graph.setMemberships('user-d', [])
    const map = createGroupsMapper(new MembershipCache())
    const ctx = context({ groups_ttl_sec: '60' })
    await map(token(overage, 'user-c'), ctx)
    await map(token(overage, 'user-c'), ctx)
    expect(graph.requests.filter((r) => r.route === 'memberOf')).toHaveLength(1)
    expect(await map(token(overage, 'user-d'), ctx)).toEqual({ roles: [], attributes: {} })
    expect(graph.requests.filter((r) => r.route === 'memberOf')).toHaveLength(2)
  })

  it('checks only the mapped ids with checkMemberGroups, 20 per call', async () => {
    const many = Object.fromEntries(filler(25).map((id) => [id, { role: 'viewer' }]))
    many[ANALYSTS] = { role: 'analyst' }
    graph.setMemberships('user-k', [ANALYSTS, 'elsewhere'])
    const grant = await createGroupsMapper()(
      token(overage, 'user-k'),
      context({ group_lookup: 'checkMemberGroups', groups: JSON.stringify(many) }),
    )
    expect(grant?.roles).toEqual(['analyst'])
    expect(graph.requests.filter((r) => r.route === 'checkMemberGroups')).toHaveLength(2)
  })

  it('asks checkMemberGroups again when the mapping names a new group, cache or not', async () => {
    graph.setMemberships('user-m', [ANALYSTS, REPS])
    const map = createGroupsMapper(new MembershipCache())
    const only = (ids: string[]) =>
      context({
        group_lookup: 'checkMemberGroups',
        groups_ttl_sec: '60',
        groups: JSON.stringify(
          Object.fromEntries(ids.map((id) => [id, { role: id === REPS ? 'viewer' : 'analyst' }])),
        ),
      })
    expect((await map(token(overage, 'user-m'), only([ANALYSTS])))?.roles).toEqual(['analyst'])
    expect((await map(token(overage, 'user-m'), only([ANALYSTS])))?.roles).toEqual(['analyst'])
    expect((await map(token(overage, 'user-m'), only([ANALYSTS, REPS])))?.roles.sort()).toEqual([
      'analyst',
      'viewer',
    ])
    expect(graph.requests.filter((r) => r.route === 'checkMemberGroups')).toHaveLength(2)
  })

  it('honours Retry-After when Graph throttles with 429', async () => {
    graph.setMemberships('user-t', [ANALYSTS])
    graph.inject('memberOf', 429, { retryAfter: 2 })
    const grant = await createGroupsMapper()(token(overage, 'user-t'), context({}))
    expect(grant?.roles).toEqual(['analyst'])
    const calls = graph.requests.filter((r) => r.route === 'memberOf')
    expect(calls.map((r) => r.status)).toEqual([429, 200])
    // the client's RetryHandler waited the server's 2 s (its own default would be 1 s)
    expect((calls[1]?.at ?? 0) - (calls[0]?.at ?? 0)).toBeGreaterThanOrEqual(1_900)
  })

  it('does not keep a sign-in waiting when Graph asks for a long Retry-After', async () => {
    graph.setMemberships('user-w', [ANALYSTS])
    graph.inject('memberOf', 429, { retryAfter: 120 })
    const started = Date.now()
    const message = await refusal(createGroupsMapper()(token(overage, 'user-w'), context({})))
    expect(message).toMatch(/answered 429 TooManyRequests/)
    expect(Date.now() - started).toBeLessThan(60_000)
    expect(graph.requests.filter((r) => r.route === 'memberOf')).toHaveLength(1)
  })

  it('authenticates the app with a certificate assertion', async () => {
    graph.setMemberships('user-x', [ANALYSTS])
    const grant = await createGroupsMapper()(
      token(overage, 'user-x'),
      context({ client_id: 'app-cert' }, { client_certificate: clientCert.pem }),
    )
    expect(grant?.roles).toEqual(['analyst'])
    expect(graph.requests.find((r) => r.route === 'token')?.status).toBe(200)
  })

  const refusal = async (p: Promise<unknown>) => {
    const err = await p.then(
      () => null,
      (e: unknown) => e,
    )
    expect(err).toBeInstanceOf(HubError)
    const h = err as HubError
    expect(h.code).toBe('FORBIDDEN')
    expect(h.details).toEqual({ reason: 'groups_unavailable' })
    return h.message
  }

  it('fails closed when Graph is down', async () => {
    graph.down = true
    const message = await refusal(createGroupsMapper()(token(overage, 'user-1'), context({})))
    expect(message).toMatch(/\(Microsoft Graph is unreachable\); no role was granted from Entra groups/)
  })

  it('fails closed, naming the status, when Graph refuses the app (403) or errs (500)', async () => {
    graph.setMemberships('user-f', [ANALYSTS])
    graph.inject('memberOf', 403)
    expect(await refusal(createGroupsMapper()(token(overage, 'user-f'), context({})))).toMatch(
      /Graph answered 403 Authorization_RequestDenied/,
    )
    graph.inject('memberOf', 500)
    expect(await refusal(createGroupsMapper()(token(overage, 'user-f'), context({})))).toMatch(/answered 500/)
  })

  it('fails closed when the token endpoint refuses the app secret', async () => {
    const message = await refusal(
      createGroupsMapper()(token(overage, 'user-1'), context({}, { client_secret: 'wrong' })),
    )
    expect(message).toMatch(/token endpoint refused the app credentials \(401 invalid_client\)/)
  })

  it('fails closed when a 401 comes back from Graph itself', async () => {
    graph.setMemberships('user-u', [ANALYSTS])
    graph.inject('memberOf', 401)
    expect(await refusal(createGroupsMapper()(token(overage, 'user-u'), context({})))).toMatch(/answered 401/)
  })

  it('does not trust the emulator without its CA (TLS is verified)', async () => {
    const ctx = context({})
    const { ca_file: _drop, ...noCa } = ctx.config
    const message = await refusal(createGroupsMapper()(token(overage, 'user-1'), { ...ctx, config: noCa }))
    expect(message).toMatch(/unreachable/)
  })

  it('fails closed when the app has no credentials stored', async () => {
    const message = await refusal(createGroupsMapper()(token(overage, 'user-1'), context({}, {})))
    expect(message).toMatch(/client_secret or client_certificate/)
  })
})
