import { gzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildWidget } from '../packages/connectors/scripts/build-widget.mjs'
import { AS_OF, REP, startWidgetHub, type WidgetHub } from './helpers/crm-widget.ts'

let w: WidgetHub

beforeAll(async () => {
  await buildWidget()
  w = await startWidgetHub()
  await w.configure({ frame_ancestors: 'https://*.lightning.force.com,https://acme.veevacrm.com' })
}, 120_000)

afterAll(async () => {
  await w?.close()
})

const tokenOf = (url: string) => new URL(url).hash.replace('#token=', '')

async function exchange(token: string) {
  return fetch(`${w.base}/crm/widget/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ tenant: 'acme', token }),
  })
}

async function session(hcp = w.hcps.mine.id): Promise<string> {
  const res = await exchange(tokenOf(await w.embedUrl(hcp)))
  expect(res.status).toBe(200)
  return ((await res.json()) as { session: string }).session
}

async function auditRows(action?: string) {
  const q = w.hub.services.metadata.knex('audit_events').where({ tenant: 'acme' })
  if (action) q.andWhere({ action })
  return (await q.select('action', 'channel', 'outcome', 'subject', 'resource')) as {
    action: string
    channel: string
    outcome: string
    subject: string
    resource: string
  }[]
}

describe('the widget page', () => {
  it('frames only under the tenant allow-list, with a nonce for its one script and no cookies', async () => {
    const res = await fetch(`${w.base}/crm/widget?tenant=acme`)
    expect(res.status).toBe(200)
    const csp = res.headers.get('content-security-policy') ?? ''
    expect(csp).toContain('frame-ancestors https://*.lightning.force.com https://acme.veevacrm.com')
    const nonce = /script-src 'nonce-([A-Za-z0-9+/=]+)'/.exec(csp)?.[1]
    expect(nonce).toBeTruthy()
    expect(csp).toContain("default-src 'none'")
    expect(res.headers.get('x-content-type-options')).toBe('nosniff')
    expect(res.headers.get('referrer-policy')).toBe('no-referrer')
    expect(res.headers.get('set-cookie')).toBeNull()
    const html = await res.text()
    // every executable script carries the nonce; the boot block is data
    const scripts = [...html.matchAll(/<script([^>]*)>/g)].map((m) => m[1] ?? '')
    expect(scripts).toHaveLength(2)
    expect(scripts.filter((a) => a.includes(`nonce="${nonce}"`))).toHaveLength(1)
    expect(scripts.filter((a) => a.includes('type="application/json"'))).toHaveLength(1)
    expect(html).not.toMatch(/nl2q_[0-9a-f]{16}_|nw1\.|Bearer/)
  })

  it('refuses framing altogether for a tenant with no allow-list', async () => {
    const res = await fetch(`${w.base}/crm/widget?tenant=globex`)
    expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'")
  })

  it('weighs less than 150 KB gzipped: page, script and stylesheet', async () => {
    const page = await (await fetch(`${w.base}/crm/widget?tenant=acme`)).text()
    const assets = [...page.matchAll(/(?:src|href)="(\/crm\/widget\/assets\/[^"]+)"/g)].map((m) => m[1]!)
    expect(assets).toHaveLength(2)
    let total = gzipSync(page).length
    for (const path of assets) {
      const res = await fetch(w.base + path)
      expect(res.status).toBe(200)
      expect(res.headers.get('x-content-type-options')).toBe('nosniff')
      expect(res.headers.get('cache-control')).toContain('immutable')
      total += gzipSync(Buffer.from(await res.arrayBuffer())).length
    }
    expect(total).toBeGreaterThan(10_000) // uPlot is in it
    expect(total).toBeLessThan(150 * 1024)
  })

  it('answers a page without a valid tenant with a clear error page', async () => {
    const res = await fetch(`${w.base}/crm/widget?tenant=..%2Fetc`)
    expect(res.status).toBe(400)
    expect(res.headers.get('content-type')).toContain('text/html')
    expect(await res.text()).toContain('The widget link lacks its tenant')
  })
})

describe('embed links', () => {
  it('are issued to an integration key only, for a mapped user, at most five minutes', async () => {
    const url = await w.embedUrl(w.hcps.mine.id)
    expect(url).toMatch(new RegExp(`^${w.base}/crm/widget\\?tenant=acme#token=[\\w-]+\\.[\\w-]+\\.[\\w-]+$`))
    const post = (body: unknown, key = w.adminKey) =>
      fetch(`${w.base}/v1/embed`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
    expect((await post({ hcp: w.hcps.mine.id, user: REP.userName, ttl: 3600 })).status).toBe(400)
    const unmapped = await post({ hcp: w.hcps.mine.id, user: 'stranger@acme.example' })
    expect(unmapped.status).toBe(403)
    expect(unmapped.headers.get('content-type')).toContain('application/problem+json')
    const anonymous = await fetch(`${w.base}/v1/embed`, { method: 'POST', body: '{}' })
    expect(anonymous.status).toBe(401)
    const { createApiKey } = await import('../packages/core/src/auth/api-keys.ts')
    const viewer = await createApiKey(w.hub.services.metadata, { tenant: 'acme', role: 'viewer' })
    expect((await post({ hcp: w.hcps.mine.id, user: REP.userName }, viewer.secret)).status).toBe(403)
    const integration = await createApiKey(w.hub.services.metadata, { tenant: 'acme', role: 'integration' })
    expect((await post({ hcp: w.hcps.mine.id, user: REP.userName }, integration.secret)).status).toBe(200)
    expect((await auditRows('crm.widget.embed')).every((r) => r.channel === 'crm-widget')).toBe(true)
  })

  it('exchange once for a session bound to the user and the HCP', async () => {
    const token = tokenOf(await w.embedUrl(w.hcps.mine.id))
    const first = await exchange(token)
    expect(first.status).toBe(200)
    const body = (await first.json()) as { session: string; expiresAt: string; hcp: string }
    expect(body.hcp).toBe(w.hcps.mine.id)
    expect(body.session).toMatch(/^nw1\.acme\./)
    expect(Date.parse(body.expiresAt) - Date.now()).toBeLessThanOrEqual(600_000)
    const replay = await exchange(token)
    expect(replay.status).toBe(401)
    expect(((await replay.json()) as { detail: string }).detail).toContain('already used')
    // the spent id outlives the token by the clock-skew margin, so no replica prunes it early
    const { createHash } = await import('node:crypto')
    const { connectorState } = await import('../packages/core/src/connectors/state-store.ts')
    const { JTI_KEEP_MS } = await import('../packages/connectors/src/crm/widget/session.ts')
    const claims = JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()) as {
      jti: string
      exp: number
    }
    const spent = await connectorState(w.hub.services.metadata.knex, 'crm', 'acme')
      .table<{ expiresAt: number }>('widget_jti')
      .get(createHash('sha256').update(claims.jti).digest('hex'))
    expect(spent?.expiresAt).toBe(claims.exp * 1000 + JTI_KEEP_MS)
  })

  it('refuse a tampered, expired, wrongly-addressed or other-tenant token', async () => {
    const token = tokenOf(await w.embedUrl(w.hcps.mine.id))
    const [h, p, s] = token.split('.') as [string, string, string]
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>
    const tampered = `${h}.${Buffer.from(JSON.stringify({ ...claims, hcp: w.hcps.other.id })).toString('base64url')}.${s}`
    expect((await exchange(tampered)).status).toBe(401)
    const now = Math.floor(Date.now() / 1000)
    const expired = await w.forgeEmbedToken({
      sub: REP.userName,
      hcp: w.hcps.mine.id,
      iat: now - 400,
      exp: now - 100,
    })
    const res = await exchange(expired)
    expect(res.status).toBe(401)
    expect(((await res.json()) as { detail: string }).detail).toContain('expired')
    const tooLong = await w.forgeEmbedToken({
      sub: REP.userName,
      hcp: w.hcps.mine.id,
      iat: now - 400,
      exp: now + 3600,
    })
    expect((await exchange(tooLong)).status).toBe(401)
    const otherTenant = await fetch(`${w.base}/crm/widget/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ tenant: 'globex', token }),
    })
    expect(otherTenant.status).toBe(401)
    expect(otherTenant.headers.get('content-type')).toContain('application/problem+json')
  })

  it('never writes refusals into the chain of a tenant a request merely names', async () => {
    const nosuch = await fetch(`${w.base}/crm/widget/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ tenant: 'nosuch', token: 'x'.repeat(40) }),
    })
    expect(nosuch.status).toBe(401)
    const page = await fetch(`${w.base}/crm/widget/hcp`, {
      headers: { authorization: `Bearer nw1.nosuch.${'A'.repeat(43)}` },
    })
    expect(page.status).toBe(401)
    const rows = await w.hub.services.metadata
      .knex('audit_events')
      .where({ tenant: 'nosuch' })
      .count({ n: '*' })
    expect(Number(rows[0]?.n)).toBe(0)
  })

  it("refuse an HCP outside the user's territories", async () => {
    const res = await exchange(tokenOf(await w.embedUrl(w.hcps.other.id)))
    expect(res.status).toBe(403)
    expect(((await res.json()) as { code: string }).code).toBe('FORBIDDEN')
  })
})

describe('the session', () => {
  it('reads the HCP overview as the mapped rep, audited on crm-widget', async () => {
    const s = await session()
    const res = await fetch(`${w.base}/crm/widget/hcp`, { headers: { authorization: `Bearer ${s}` } })
    expect(res.status).toBe(200)
    const o = (await res.json()) as {
      hcp: { hcpId: string; territory: string }
      trend: { weeks: string[]; products: { product: string; trx: number[] }[] }
      rank: { rank: number; of: number }
      calls: unknown[]
      insights: unknown[]
    }
    expect(o.hcp.hcpId).toBe(w.hcps.mine.id)
    expect(o.trend.weeks).toHaveLength(26)
    expect(o.trend.weeks.at(-1)! <= AS_OF).toBe(true)
    expect(o.trend.products.length).toBeGreaterThan(0)
    for (const p of o.trend.products) expect(p.trx).toHaveLength(26)
    expect(o.rank.of).toBeGreaterThan(1)
    expect(o.insights).toEqual([])
    const reads = (await auditRows()).filter(
      (r) => r.subject === `crm:${REP.userName}` && r.action.startsWith('data.'),
    )
    expect(reads.length).toBeGreaterThan(0)
    expect(reads.every((r) => r.channel === 'crm-widget')).toBe(true)
  })

  it('shows the insights the sync stored for the HCP', async () => {
    const { connectorState } = await import('../packages/core/src/connectors/state-store.ts')
    const state = connectorState(w.hub.services.metadata.knex, 'crm', 'acme')
    await state
      .table('insights')
      .put(w.hcps.mine.id, { items: [{ title: 'Tirosint share up', text: 'Share rose 4 points in Q4.' }] })
    const s = await session()
    const o = (await (
      await fetch(`${w.base}/crm/widget/hcp`, { headers: { authorization: `Bearer ${s}` } })
    ).json()) as {
      insights: { title: string }[]
    }
    expect(o.insights.map((i) => i.title)).toEqual(['Tirosint share up'])
    await state.table('insights').delete(w.hcps.mine.id)
  })

  it('answers the ask box for this HCP only', async () => {
    const s = await session()
    const ask = (question: string) =>
      fetch(`${w.base}/crm/widget/ask`, {
        method: 'POST',
        headers: { authorization: `Bearer ${s}`, 'content-type': 'application/json' },
        body: JSON.stringify({ question }),
      })
    const res = await ask('NRx by product last quarter')
    expect(res.status).toBe(200)
    const a = (await res.json()) as { rows: unknown[][]; interpretation: string; columns: { name: string }[] }
    expect(a.interpretation).toContain('this HCP only')
    expect(a.rows.length).toBeGreaterThan(0)
    // the same question for the whole territory (admin key) gives more NRx than this HCP alone
    const all = await w.hub.call('/v1/ask', {
      method: 'POST',
      key: w.adminKey,
      json: { question: 'NRx by product last quarter', asOf: AS_OF },
    })
    const total = ((await all.json()) as { rows: unknown[][] }).rows.reduce((n, r) => n + Number(r[1]), 0)
    const mine = a.rows.reduce((n, r) => n + Number(r[1]), 0)
    expect(mine).toBeLessThan(total)
    const offTopic = await ask('list price by product')
    expect(offTopic.status).toBe(422)
    const bad = await fetch(`${w.base}/crm/widget/ask`, {
      method: 'POST',
      headers: { authorization: `Bearer ${s}`, 'content-type': 'application/json' },
      body: JSON.stringify({ question: 'x', tenant: 'globex' }),
    })
    expect(bad.status).toBe(400)
  })

  it('refuses a session past its ten minutes, and forgets it', async () => {
    const { createHash } = await import('node:crypto')
    const { connectorState } = await import('../packages/core/src/connectors/state-store.ts')
    const s = await session()
    const id = createHash('sha256').update(s.split('.')[2]!).digest('hex')
    const sessions = connectorState(w.hub.services.metadata.knex, 'crm', 'acme').table<{ expiresAt: number }>(
      'widget_sessions',
    )
    const stored = await sessions.get(id)
    expect(stored!.expiresAt - Date.now()).toBeLessThanOrEqual(600_000)
    await sessions.put(id, { ...stored!, expiresAt: Date.now() - 1 })
    const res = await fetch(`${w.base}/crm/widget/hcp`, { headers: { authorization: `Bearer ${s}` } })
    expect(res.status).toBe(401)
    expect(((await res.json()) as { detail: string }).detail).toContain('expired')
    expect(await sessions.get(id)).toBeUndefined()
  })

  it('refuses a missing, forged or unknown session token', async () => {
    for (const auth of [
      undefined,
      'Bearer nope',
      `Bearer nw1.acme.${'A'.repeat(43)}`,
      `Bearer nw1.globex.${'A'.repeat(43)}`,
    ]) {
      const res = await fetch(`${w.base}/crm/widget/hcp`, auth ? { headers: { authorization: auth } } : {})
      expect(res.status).toBe(401)
      expect(res.headers.get('content-type')).toContain('application/problem+json')
    }
  })
})

describe('Canvas', () => {
  const post = (signed: string) =>
    fetch(`${w.base}/crm/canvas`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ signed_request: signed }),
    })

  it('renders the widget with a session for a valid signed request', async () => {
    const res = await post(w.signedRequest())
    expect(res.status).toBe(200)
    expect(res.headers.get('content-security-policy')).toContain(
      'frame-ancestors https://*.lightning.force.com',
    )
    const html = await res.text()
    expect(html).toMatch(/"session":\{"token":"nw1\.acme\./)
    expect(html).not.toContain('not-used-by-the-widget') // the OAuth token never reaches the page
    const events = await auditRows('crm.widget.session')
    expect(events.some((e) => e.channel === 'crm-widget' && e.resource === `hcp:${w.hcps.mine.id}`)).toBe(
      true,
    )
  })

  it('accepts the HCP by its CRM account id', async () => {
    expect((await post(w.signedRequest({ hcp: w.hcps.mine.account }))).status).toBe(200)
  })

  it.each([
    [
      'a wrong consumer secret',
      { secret: 'another-secret-entirely-0123456789' },
      401,
      'signature does not match',
    ],
    ['an old issuedAt', { issuedAt: Math.floor(Date.now() / 1000) - 3600 }, 401, 'has expired'],
    ['another algorithm', { algorithm: 'HMACSHA1' }, 401, 'is not HMACSHA256'],
    ['an unmapped user', { userId: '005ZZ0000009ZZZ' }, 403, 'not mapped'],
  ])('refuses %s with a clear page', async (_name, overrides, status, text) => {
    const res = await post(w.signedRequest(overrides))
    expect(res.status).toBe(status)
    expect(res.headers.get('content-type')).toContain('text/html')
    const html = await res.text()
    expect(html).toContain(text)
    expect(html).toMatch(/request [\w-]+/)
    expect(html).not.toMatch(/at .+\.ts:\d+/)
  })

  it('refuses a tampered envelope and a malformed request', async () => {
    const [sig, payload] = w.signedRequest().split('.') as [string, string]
    const envelope = JSON.parse(Buffer.from(payload, 'base64').toString())
    envelope.context.environment.parameters.hcp = w.hcps.other.id
    const tampered = `${sig}.${Buffer.from(JSON.stringify(envelope)).toString('base64')}`
    expect((await post(tampered)).status).toBe(401)
    expect((await post('garbage')).status).toBe(401)
    const none = await fetch(`${w.base}/crm/canvas`, { method: 'POST' })
    expect(none.status).toBe(400)
  })
})
