import type { AddressInfo } from 'node:net'
import { type ServerType, serve } from '@hono/node-server'
import { SignJWT } from 'jose'
import crmConnector from '../../packages/connectors/src/crm/index.ts'
import { signCanvasRequest } from '../../packages/connectors/src/crm/widget/canvas.ts'
import { setTenantSettings } from '../../packages/core/src/connectors/config-section.ts'
import { secretAdmin } from '../../packages/core/src/connectors/secret-store.ts'
import { localPrincipal } from '../../packages/core/src/principal.ts'
import { secretBoxFor } from '../../packages/core/src/secrets/index.ts'
import { createTestHub, type TestHub } from './hub.ts'

export const ORG_ID = '00D5e000000AbCdEAF'
export const CANVAS_SECRET = 'canvas-consumer-secret-for-tests-0123456789'
export const EMBED_KEY = 'embed-signing-key-for-the-widget-tests-0123456789'
export const REP = { userId: '005A10000001AAA', userName: 'rep.one@acme.example', territory: 'ACM-T01' }
export const AS_OF = '2024-12-31'

export interface Hcp {
  id: string
  account: string
  name: string
}

export interface WidgetHub {
  hub: TestHub
  /** http://127.0.0.1:<port> */
  base: string
  /** Two HCPs of the rep's territory, one of another territory. */
  hcps: { mine: Hcp; mineToo: Hcp; other: Hcp }
  adminKey: string
  configure(values: Record<string, string>): Promise<void>
  setSecret(name: string, value: string): Promise<void>
  embedUrl(hcp: string, user?: string, ttl?: number): Promise<string>
  signedRequest(overrides?: {
    issuedAt?: number
    userId?: string
    hcp?: string
    secret?: string
    algorithm?: string
  }): string
  /** An embed token signed with the tenant's key but expired (or with any claims). */
  forgeEmbedToken(claims: {
    sub: string
    hcp: string
    iat: number
    exp: number
    jti?: string
  }): Promise<string>
  close(): Promise<void>
}

async function hcpsOf(hub: TestHub, territory: string, limit: number): Promise<Hcp[]> {
  const result = await hub.services.hub.query(
    localPrincipal('acme'),
    {
      dataset: 'hcps',
      measures: [],
      dimensions: [],
      select: [
        { field: 'hcps.hcp_id', as: 'id' },
        { field: 'hcps.crm_account_id', as: 'account' },
        { field: 'hcps.first_name', as: 'first' },
        { field: 'hcps.last_name', as: 'last' },
      ],
      filter: { op: 'eq', field: 'hcps.territory_id', value: territory },
      having: null,
      order: [{ by: 'id', direction: 'asc' }],
      limit,
      offset: 0,
      distinct: false,
    },
    { requestId: 'test', clientIp: null, channel: 'test' },
  )
  return result.rows.map(([id, account, first, last]) => ({
    id: String(id),
    account: String(account),
    name: `${first} ${last}`,
  }))
}

/** A demo hub with the crm connector listening on loopback, Canvas and embed links configured for acme. */
export async function startWidgetHub(): Promise<WidgetHub> {
  const hub = await createTestHub({
    connectors: [crmConnector],
    env: { HUB_CRM_CANVAS_ORGS: `${ORG_ID}=acme` },
  })
  const server = await new Promise<ServerType>((resolve) => {
    const s = serve({ fetch: hub.app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s))
  })
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const knex = hub.services.metadata.knex
  const admin = secretAdmin(knex, secretBoxFor(hub.services.config))
  const env = { canvas_orgs: `${ORG_ID}=acme` }
  const configure = (values: Record<string, string>) =>
    setTenantSettings(knex, crmConnector, env, 'acme', values)
  const setSecret = (name: string, value: string) => admin.set('crm', 'acme', name, value)
  await setSecret('canvas_consumer_secret', CANVAS_SECRET)
  await setSecret('embed_signing_key', EMBED_KEY)
  await configure({
    as_of: AS_OF,
    users: JSON.stringify({
      [REP.userId]: { role: 'viewer', territories: [REP.territory] },
      [REP.userName]: { role: 'viewer', territories: [REP.territory] },
    }),
  })
  const [mine, mineToo] = await hcpsOf(hub, REP.territory, 2)
  const [other] = await hcpsOf(hub, 'ACM-T02', 1)
  if (!mine || !mineToo || !other) throw new Error('the demo data has no HCPs in ACM-T01/T02')
  const adminKey = hub.keys.acme!
  return {
    hub,
    base,
    hcps: { mine, mineToo, other },
    adminKey,
    configure,
    setSecret,
    async embedUrl(hcp, user = REP.userName, ttl = 120) {
      const res = await fetch(`${base}/v1/embed`, {
        method: 'POST',
        headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ hcp, user, ttl }),
      })
      if (res.status !== 200) throw new Error(`embed ${res.status}: ${await res.text()}`)
      return ((await res.json()) as { url: string }).url
    },
    signedRequest(o = {}) {
      return signCanvasRequest(
        {
          algorithm: o.algorithm ?? 'HMACSHA256',
          issuedAt: o.issuedAt ?? Math.floor(Date.now() / 1000),
          userId: o.userId ?? REP.userId,
          client: { oauthToken: 'not-used-by-the-widget', instanceUrl: 'https://acme.my.salesforce.com' },
          context: {
            user: {
              userId: o.userId ?? REP.userId,
              userName: o.userId ? `${o.userId}@acme.example` : REP.userName,
            },
            organization: { organizationId: ORG_ID },
            environment: { parameters: { hcp: o.hcp ?? mine.id } },
          },
        },
        o.secret ?? CANVAS_SECRET,
      )
    },
    forgeEmbedToken(claims) {
      return new SignJWT({ hcp: claims.hcp })
        .setProtectedHeader({ alg: 'HS256' })
        .setIssuer('nl2q:crm:acme')
        .setAudience('nl2q-widget')
        .setSubject(claims.sub)
        .setJti(claims.jti ?? crypto.randomUUID())
        .setIssuedAt(claims.iat)
        .setExpirationTime(claims.exp)
        .sign(new TextEncoder().encode(EMBED_KEY))
    },
    async close() {
      await new Promise((r) => server.close(r))
      await hub.close()
    },
  }
}
