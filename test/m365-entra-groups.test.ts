/**
 * The whole path of an Entra sign-in: a JWT from an Entra-like issuer (signed by a key its JWKS on
 * loopback publishes) → the m365 connector maps its groups (claim, or Graph on overage, through the
 * HTTPS Graph emulator) → the principal's role and territories → the pharma row policy in /v1/ask.
 * Settings and secrets are stored by the real `hub connector` CLI.
 */

import { writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { m365Connector } from '../packages/connectors/src/m365/index.ts'
import {
  type GraphEmulator,
  startGraphEmulator,
} from '../packages/connectors/src/m365/testing/graph-emulator.ts'
import { rsaKeys, signJwt } from './auth-jwt.fixture.ts'
import { runHub } from './helpers/cli.ts'
import { createTestHub, type TestHub } from './helpers/hub.ts'

const ISSUER = 'https://login.microsoftonline.com/dir-1/v2.0'
const AUDIENCE = 'api://nl2q-hub'
const REPS_T01 = 'b2222222-0000-0000-0000-000000000002'
const HQ = 'a1111111-0000-0000-0000-000000000001'
const keys = rsaKeys()
let graph: GraphEmulator
let jwks: Server
let hub: TestHub

beforeAll(async () => {
  graph = await startGraphEmulator()
  graph.registerApp('hub-app', { directory: 'dir-1', secret: 'app-s3cret' })
  jwks = createServer((_req, res) => {
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ keys: [{ ...keys.publicJwk, kid: 'entra-1', alg: 'RS256', use: 'sig' }] }))
  })
  await new Promise<void>((r) => jwks.listen(0, '127.0.0.1', r))
  hub = await createTestHub({
    connectors: [m365Connector],
    env: {
      HUB_JWKS_URL: `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/discovery/v2.0/keys`,
      HUB_JWT_ISSUER: ISSUER,
      HUB_JWT_AUDIENCE: AUDIENCE,
    },
  })
  const caFile = join(hub.home, 'graph-ca.pem')
  writeFileSync(caFile, graph.caPem)
  const env = { HUB_HOME: hub.home, HUB_LOG_LEVEL: 'silent', HUB_CONNECTORS: '@nl2q/connectors/m365' }
  const groups = JSON.stringify({
    [REPS_T01]: { role: 'viewer', attributes: { territories: 'ACM-T01' } },
    [HQ]: { role: 'analyst' },
  })
  const config = await runHub(
    [
      'connector',
      'config',
      'm365',
      '--tenant',
      'acme',
      `groups=${groups}`,
      `issuer=${ISSUER}`,
      'directory=dir-1',
      'client_id=hub-app',
      `graph_url=${graph.url}`,
      `login_url=${graph.url}`,
      `ca_file=${caFile}`,
    ],
    env,
  )
  expect(config, config.stderr).toMatchObject({ code: 0 })
  const secret = await runHub(
    ['connector', 'secret', 'set', 'm365', '--tenant', 'acme', 'client_secret=app-s3cret'],
    env,
  )
  expect(secret, secret.stderr).toMatchObject({ code: 0 })
}, 180_000)

afterAll(async () => {
  await hub?.close()
  await graph?.close()
  await new Promise((r) => jwks?.close(r))
})

const now = () => Math.floor(Date.now() / 1000)
function entraToken(claims: Record<string, unknown>): string {
  return signJwt(
    { alg: 'RS256', kid: 'entra-1', typ: 'JWT' },
    { iss: ISSUER, aud: AUDIENCE, tid: 'dir-1', tenant: 'acme', exp: now() + 600, iat: now(), ...claims },
    keys.privateKey,
  )
}

async function ask(token: string) {
  const res = await hub.app.request('/v1/ask', {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ question: 'TRx by territory' }),
  })
  return { status: res.status, body: (await res.json()) as Record<string, unknown> }
}
const territoriesOf = (body: Record<string, unknown>) =>
  new Set(
    ((body.rows ?? []) as Record<string, unknown>[]).map((r) =>
      String(Object.values(r).find((v) => typeof v === 'string' && v.startsWith('ACM-T')) ?? ''),
    ),
  )

describe('Entra groups → hub roles → row policy in /v1/ask', () => {
  it('scopes a rep by the territories of a group in the token’s groups claim', async () => {
    const { status, body } = await ask(
      entraToken({ sub: 'rep-1', oid: 'oid-rep-1', groups: [REPS_T01, 'unmapped'] }),
    )
    expect(status, JSON.stringify(body)).toBe(200)
    expect([...territoriesOf(body)]).toEqual(['ACM-T01'])
    expect(graph.requests.filter((r) => r.route === 'memberOf')).toHaveLength(0)
  })

  it('reads an overage user’s groups from Graph: an HQ analyst sees every territory', async () => {
    graph.pageSize = 2
    graph.setMemberships('oid-hq', ['g-1', 'g-2', 'g-3', 'g-4', HQ])
    const token = entraToken({ sub: 'hq-1', oid: 'oid-hq', _claim_names: { groups: 'src1' } })
    const { status, body } = await ask(token)
    expect(status, JSON.stringify(body)).toBe(200)
    expect(territoriesOf(body).size).toBeGreaterThan(1)
    expect(graph.requests.filter((r) => r.route === 'memberOf')).toHaveLength(3)
    const me = await hub.app.request('/v1/me', { headers: { authorization: `Bearer ${token}` } })
    expect(await me.json()).toMatchObject({ tenant: 'acme', roles: ['analyst'] })
  })

  it('refuses with 403 naming Graph, and audits it, when Graph is down (fail closed)', async () => {
    graph.down = true
    try {
      const token = entraToken({ sub: 'rep-9', oid: 'oid-rep-9', hasgroups: true, jti: 'graph-down-1' })
      const { status, body } = await ask(token)
      expect(status).toBe(403)
      expect(body).toMatchObject({ code: 'FORBIDDEN', reason: 'groups_unavailable' })
      expect(String(body.detail)).toMatch(/Microsoft Graph is unreachable/)
      expect(JSON.stringify(body)).not.toMatch(/s3cret|oauth2|127\.0\.0\.1/)
    } finally {
      graph.down = false
    }
    const audit = await hub.call('/v1/audit?action=auth.failed', { key: hub.keys.acme })
    const events = ((await audit.json()) as { items: Record<string, unknown>[] }).items
    expect(events.find((e) => e.credentialId === 'jwt:graph-down-1')).toMatchObject({
      outcome: 'denied',
      subject: 'rep-9',
      detail: { reason: 'claims_groups_unavailable' },
    })
  })

  it('refuses a token whose groups map to no role', async () => {
    const { status, body } = await ask(entraToken({ sub: 'nobody', oid: 'oid-0', groups: ['unmapped'] }))
    expect(status).toBe(403)
    expect(body).toMatchObject({ code: 'FORBIDDEN' })
  })
})
