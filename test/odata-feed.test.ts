import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  createHubApp,
  type Hub,
  loadConfig,
  localPrincipal,
  type QueryPlan,
  type RunningHub,
} from '@nl2q/core'
import { createPowerBiConnector, savedQuestionStore } from '@nl2q/powerbi-connector'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connectorState } from '../packages/core/src/connectors/state-store.ts'

/**
 * The OData feed end to end: a real hub (demo tenants acme and globex on SQLite) with the connector,
 * driven with the headers Power Query sends, read the way OData.Feed reads it.
 */
const POWER_QUERY_HEADERS = {
  'user-agent': 'Microsoft.Data.Mashup (https://go.microsoft.com/fwlink/?LinkID=304225)',
  'odata-maxversion': '4.0',
  'odata-version': '4.0',
  accept:
    'application/json;odata.metadata=minimal;q=1.0,application/json;odata=minimalmetadata;q=0.9,application/atomsvc+xml;q=0.8,application/atom+xml;q=0.8,application/xml;q=0.7,text/plain;q=0.7',
}

let home: string
let running: RunningHub
let acmeKey: string
let globexKey: string

const BASE = 'http://hub.test'
async function get(path: string, key: string, extra: Record<string, string> = {}) {
  const url = path.startsWith('http') ? path : `${BASE}${path}`
  return running.app.request(url, {
    headers: { ...POWER_QUERY_HEADERS, authorization: `Bearer ${key}`, ...extra },
  })
}
async function json(path: string, key: string, extra: Record<string, string> = {}) {
  const res = await get(path, key, extra)
  expect(res.status, `${path}: ${await res.clone().text()}`).toBe(200)
  return (await res.json()) as Record<string, unknown> & { value: Record<string, unknown>[] }
}

/** Read a set the way OData.Feed does: first page, then every @odata.nextLink, bounded. */
async function readAll(path: string, key: string, pageSize: number) {
  const rows: Record<string, unknown>[] = []
  let next: string | undefined = path
  let pages = 0
  let count: unknown
  while (next && pages < 500) {
    const body = await json(next, key, { prefer: `odata.maxpagesize=${pageSize}` })
    if (pages === 0) count = body['@odata.count']
    rows.push(...body.value)
    next = body['@odata.nextLink'] as string | undefined
    if (next) expect(next.startsWith(`${BASE}/odata/`)).toBe(true)
    pages++
  }
  return { rows, pages, count }
}

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'nl2q-odata-'))
  const config = loadConfig({
    ...process.env,
    HUB_HOME: home,
    HUB_DEMO: '1',
    HUB_LOG_LEVEL: 'silent',
    HUB_RATE_LIMIT: '100000',
    HUB_DATABASE_URL: undefined,
  })
  running = await createHubApp(config, { connectors: [createPowerBiConnector({ pageSize: 5000 })] })
  acmeKey = readFileSync(join(home, 'acme.key'), 'utf8').trim()
  globexKey = readFileSync(join(home, 'globex.key'), 'utf8').trim()
}, 120_000)

afterAll(async () => {
  await running?.close()
  rmSync(home, { recursive: true, force: true })
})

describe('service document and headers', () => {
  it('answers Power Query with one OData-Version header, minimal JSON and an absolute context', async () => {
    const res = await get('/odata/', acmeKey)
    expect(res.status).toBe(200)
    expect(res.headers.get('odata-version')).toBe('4.0')
    expect(res.headers.get('content-type')).toBe('application/json;odata.metadata=minimal')
    const body = (await res.json()) as {
      '@odata.context': string
      value: { name: string; kind: string; url: string }[]
    }
    expect(body['@odata.context']).toBe(`${BASE}/odata/$metadata`)
    expect(body.value.map((s) => s.name)).toEqual(
      expect.arrayContaining(['prescriptions', 'products', 'hcps']),
    )
    for (const s of body.value) expect(s).toMatchObject({ kind: 'EntitySet', url: s.name })
  })

  it('serves the root without a trailing slash too', async () => {
    expect((await get('/odata', acmeKey)).status).toBe(200)
  })

  it('accepts HTTP Basic with the API key as the password', async () => {
    const basic = Buffer.from(`anyone:${acmeKey}`).toString('base64')
    const res = await running.app.request(`${BASE}/odata/products`, {
      headers: { ...POWER_QUERY_HEADERS, authorization: `Basic ${basic}` },
    })
    expect(res.status).toBe(200)
  })

  it('refuses a missing credential with OData error JSON and a Basic challenge', async () => {
    const res = await running.app.request(`${BASE}/odata/products`, { headers: POWER_QUERY_HEADERS })
    expect(res.status).toBe(401)
    expect(res.headers.get('content-type')).toMatch(/^application\/json/)
    expect(res.headers.get('www-authenticate')).toMatch(/Basic/)
    const body = (await res.json()) as {
      error: { code: string; message: string; innererror: { requestId: string } }
    }
    expect(body.error.code).toBe('UNAUTHENTICATED')
    expect(body.error.innererror.requestId).toBe(res.headers.get('x-request-id'))
  })
})

describe('options become plan parts', () => {
  const runPlan = (hub: Hub, plan: Partial<QueryPlan> & { dataset: string }) =>
    hub.query(
      localPrincipal('acme', ['admin']),
      {
        measures: [],
        dimensions: [],
        select: [],
        filter: null,
        having: null,
        order: [],
        limit: null,
        offset: 0,
        distinct: false,
        ...plan,
      },
      { requestId: 'test-plan-path', clientIp: null, channel: 'test' },
    )

  it('returns for $filter/$select/$orderby/$top/$skip exactly what the equivalent plan returns', async () => {
    const body = await json(
      "/odata/prescriptions?$filter=week_ending ge 2024-10-01 and (payer_type eq 'Medicare' or payer_type in ('Cash')) and trx gt 2&$select=rx_id,week_ending,trx&$orderby=trx desc,week_ending&$top=40&$skip=10",
      acmeKey,
    )
    const plan = await runPlan(running.services.hub, {
      dataset: 'prescriptions',
      select: [
        { field: 'prescriptions.rx_id', as: 'rx_id' },
        { field: 'prescriptions.week_ending', as: 'week_ending' },
        { field: 'prescriptions.trx', as: 'trx' },
      ],
      filter: {
        op: 'and',
        args: [
          { op: 'gte', field: 'prescriptions.week_ending', value: '2024-10-01' },
          { op: 'in', field: 'prescriptions.payer_type', values: ['Medicare', 'Cash'] },
          { op: 'gt', field: 'prescriptions.trx', value: 2 },
        ],
      },
      order: [
        { by: 'trx', direction: 'desc' },
        { by: 'week_ending', direction: 'asc' },
        { by: 'rx_id', direction: 'asc' },
      ],
      limit: 40,
      offset: 10,
    })
    expect(body.value.length).toBe(40)
    expect(body.value).toEqual(plan.rows.map(([rx_id, week_ending, trx]) => ({ rx_id, week_ending, trx })))
  })

  it('folds startswith, contains, endswith and not', async () => {
    const body = await json(
      "/odata/products?$filter=startswith(product_name,'Tiro') and not endswith(product_name,'SOL') and contains(manufacturer,'Pharma')&$select=product_name",
      acmeKey,
    )
    expect(body.value).toEqual([{ product_name: 'Tirosint' }])
  })

  it('counts with /$count as text/plain and with $count=true as @odata.count', async () => {
    const filter = "$filter=payer_type eq 'Cash'"
    const res = await get(`/odata/prescriptions/$count?${filter}`, acmeKey)
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/)
    const n = Number(await res.text())
    expect(n).toBeGreaterThan(0)
    const body = await json(`/odata/prescriptions?${filter}&$count=true&$top=1`, acmeKey)
    expect(body['@odata.count']).toBe(n)
  })

  it('compares DateTimeOffset literals sent with %2B-encoded offsets', async () => {
    const body = await json(
      '/odata/prescriptions?$filter=week_ending ge 2024-12-01T00:00:00%2B02:00&$select=week_ending&$orderby=week_ending&$top=1',
      acmeKey,
    )
    expect(body.value[0]?.week_ending).toBe('2024-12-07')
    // A raw + is a space in a query string: not a valid literal, and said so.
    const raw = await get('/odata/prescriptions?$filter=week_ending ge 2024-12-01T00:00:00+02:00', acmeKey)
    expect(raw.status).toBe(400)
  })

  it('reads an in-list on the left of and/or, on the right and nested, like the eq filters it stands for', async () => {
    const first = await json("/odata/hcps?$filter=specialty eq 'Endocrinology'&$select=state&$top=1", acmeKey)
    const state = String(first.value[0]?.state)
    const ids = async (filter: string) =>
      (await readAll(`/odata/hcps?$filter=${filter}&$select=hcp_id&$orderby=hcp_id`, acmeKey, 5000)).rows.map(
        (r) => r.hcp_id,
      )
    const both = await ids(`specialty eq 'Endocrinology' and state eq '${state}'`)
    expect(both.length).toBeGreaterThan(0)
    expect(await ids(`specialty in ('Endocrinology') and state eq '${state}'`)).toEqual(both)
    expect(await ids(`state eq '${state}' and specialty in ('Endocrinology')`)).toEqual(both)
    expect(await ids(`specialty in ('Endocrinology') and state in ('${state}', 'ZZ')`)).toEqual(both)
    const either = await ids(`specialty eq 'Endocrinology' or state eq '${state}'`)
    expect(await ids(`specialty in ('Endocrinology') or state eq '${state}'`)).toEqual(either)
    expect(
      await ids(
        `(specialty in ('Endocrinology') or state eq 'ZZ') and not (state in ('ZZ')) and state eq '${state}'`,
      ),
    ).toEqual(both)
  })

  it('refuses a representation it cannot give with 406 NOT_ACCEPTABLE', async () => {
    for (const path of ['/odata/products?$format=xml', '/odata/$metadata?$format=json']) {
      const res = await get(path, acmeKey)
      expect(res.status, path).toBe(406)
      const body = (await res.json()) as { error: { code: string } }
      expect(body.error.code, path).toBe('NOT_ACCEPTABLE')
    }
    const res = await get('/odata/products', acmeKey, { accept: 'application/xml' })
    expect(res.status).toBe(406)
  })

  it('answers malformed query options with 400 BAD_REQUEST, not 501', async () => {
    for (const q of [
      '$filter=1',
      '$filter=eq',
      "$filter='x'",
      '$filter=trx add 1',
      '$orderby=,',
      '$orderby=1',
    ]) {
      const res = await get(`/odata/prescriptions?${q}`, acmeKey)
      expect(res.status, q).toBe(400)
      expect(((await res.json()) as { error: { code: string } }).error.code, q).toBe('BAD_REQUEST')
    }
  })

  it('refuses unsupported options with 501 OData errors instead of ignoring them', async () => {
    for (const q of ['$apply=groupby((payer_type))', '$expand=hcp', '$search=tirosint']) {
      const res = await get(`/odata/prescriptions?${q}`, acmeKey)
      expect(res.status, q).toBe(501)
      const body = (await res.json()) as { error: { code: string } }
      expect(body.error.code).toBe('NOT_IMPLEMENTED')
    }
    const unknown = await get('/odata/prescriptions?$filter=nope eq 1', acmeKey)
    expect(unknown.status).toBe(400)
    expect(((await unknown.json()) as { error: { message: string } }).error.message).toMatch(/nope/)
  })

  it('formats Int64 and Decimal as strings only with IEEE754Compatible=true', async () => {
    const plain = await json("/odata/products?$filter=product_name eq 'Tirosint'", acmeKey)
    expect(typeof plain.value[0]?.list_price).toBe('number')
    const res = await get("/odata/products?$filter=product_name eq 'Tirosint'", acmeKey, {
      accept: 'application/json;odata.metadata=minimal;IEEE754Compatible=true',
    })
    expect(res.headers.get('content-type')).toContain('IEEE754Compatible=true')
    const body = (await res.json()) as { value: Record<string, unknown>[] }
    expect(typeof body.value[0]?.list_price).toBe('string')
    expect(body.value[0]?.launch_date).toMatch(/^\d{4}-\d{2}-\d{2}$/)
  })
})

describe('paging like OData.Feed', () => {
  it('follows every nextLink to the full set: count matches /$count and @odata.count, no key twice', async () => {
    const total = Number(await (await get('/odata/calls/$count', acmeKey)).text())
    const { rows, pages, count } = await readAll('/odata/calls?$count=true', acmeKey, 4000)
    expect(pages).toBe(Math.ceil(total / 4000))
    expect(rows.length).toBe(total)
    expect(count).toBe(total)
    expect(new Set(rows.map((r) => r.call_id)).size).toBe(total)
  })

  it('keeps filter, select and a nullable sort across pages without losing or repeating rows', async () => {
    const path =
      "/odata/calls?$filter=status ne 'Planned'&$select=call_id,product_id&$orderby=product_id desc"
    const total = Number(await (await get("/odata/calls/$count?$filter=status ne 'Planned'", acmeKey)).text())
    const { rows } = await readAll(path, acmeKey, 3000)
    expect(rows.length).toBe(total)
    expect(new Set(rows.map((r) => r.call_id)).size).toBe(total)
    expect(Object.keys(rows[0] ?? {})).toEqual(['call_id', 'product_id'])
    // Nulls last in descending order, as the database sorts them.
    const firstNull = rows.findIndex((r) => r.product_id === null)
    if (firstNull >= 0) expect(rows.slice(firstNull).every((r) => r.product_id === null)).toBe(true)
  })

  it('splits a set into disjoint incremental-refresh partitions whose union is the whole set', async () => {
    const bounds = ['2023-01-01', '2023-07-01', '2024-01-01', '2024-07-01', '2025-01-01']
    const seen = new Set<unknown>()
    let sum = 0
    for (let i = 0; i + 1 < bounds.length; i++) {
      const filter = `$filter=week_ending ge ${bounds[i]}T00:00:00Z and week_ending lt ${bounds[i + 1]}T00:00:00Z`
      const n = Number(await (await get(`/odata/prescriptions/$count?${filter}`, acmeKey)).text())
      const { rows } = await readAll(`/odata/prescriptions?${filter}&$select=rx_id&$top=2000`, acmeKey, 5000)
      expect(rows.length).toBe(Math.min(n, 2000))
      for (const r of rows) {
        expect(seen.has(r.rx_id)).toBe(false)
        seen.add(r.rx_id)
      }
      sum += n
    }
    expect(sum).toBe(Number(await (await get('/odata/prescriptions/$count', acmeKey)).text()))
  })

  it('honours Prefer: odata.maxpagesize and says so', async () => {
    const res = await get('/odata/products', acmeKey, { prefer: 'odata.maxpagesize=3' })
    expect(res.headers.get('preference-applied')).toBe('odata.maxpagesize=3')
    const body = (await res.json()) as { value: unknown[]; '@odata.nextLink'?: string }
    expect(body.value.length).toBe(3)
    expect(body['@odata.nextLink']).toMatch(/^http:\/\/hub\.test\/odata\/products\?.*\$skiptoken=/)
  })
})

describe('tenants and row policies', () => {
  it("never shows tenant A's rows to tenant B's credential", async () => {
    const acme = await json('/odata/hcps?$select=hcp_id&$top=500', acmeKey)
    const globex = await json('/odata/hcps?$select=hcp_id&$top=500', globexKey)
    expect(acme.value.every((r) => String(r.hcp_id).startsWith('ACM-'))).toBe(true)
    expect(globex.value.every((r) => String(r.hcp_id).startsWith('GLX-'))).toBe(true)
    const probe = await json("/odata/hcps?$filter=startswith(hcp_id,'ACM-')&$count=true&$top=1", globexKey)
    expect(probe['@odata.count']).toBe(0)
  })

  it('applies a rep key’s territory policy to OData reads', async () => {
    const res = await running.app.request(`${BASE}/v1/admin/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${acmeKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        role: 'viewer',
        attributes: { territories: ['ACM-T01', 'ACM-T02'] },
        label: 'rep',
      }),
    })
    expect(res.status).toBe(201)
    const repKey = ((await res.json()) as { secret: string }).secret
    const all = await readAll('/odata/hcps?$select=hcp_id,territory_id', repKey, 5000)
    expect(all.rows.length).toBeGreaterThan(0)
    expect(new Set(all.rows.map((r) => r.territory_id))).toEqual(new Set(['ACM-T01', 'ACM-T02']))
    const count = Number(await (await get('/odata/hcps/$count', repKey)).text())
    expect(count).toBe(all.rows.length)
  })
})

describe('saved questions', () => {
  it('exposes a saved question as an entity set answered at every read', async () => {
    const res = await running.app.request(`${BASE}/v1/saved-questions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${acmeKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'trx_by_product', question: 'Total TRx by product', asOf: '2024-12-31' }),
    })
    expect(res.status, await res.clone().text()).toBe(201)
    const saved = (await res.json()) as { entitySet: string; url: string }
    expect(saved.entitySet).toBe('saved_trx_by_product')
    const doc = await json('/odata/', acmeKey)
    expect(doc.value.map((s) => s.name)).toContain('saved_trx_by_product')
    expect((await json('/odata/', globexKey)).value.map((s) => s.name)).not.toContain('saved_trx_by_product')
    const rows = await json('/odata/saved_trx_by_product?$count=true', acmeKey)
    expect(rows.value.length).toBeGreaterThan(0)
    expect(rows['@odata.count']).toBe(rows.value.length)
    expect(rows.value[0]).toHaveProperty('row_number', 1)
  })
  it('lists every saved question in the service document when the tenant has more than 1,000', async () => {
    const names = Array.from({ length: 1_005 }, (_, i) => `bulk_${String(i).padStart(4, '0')}`)
    const knex = running.services.metadata.knex
    await knex.transaction(async (trx) => {
      const store = savedQuestionStore(connectorState(trx, 'odata', 'globex'))
      for (const name of names)
        await store.create({
          name,
          question: 'Total TRx by product',
          asOf: null,
          columns: [],
          createdBy: 'bulk@globex',
        })
    })
    try {
      expect((await savedQuestionStore(connectorState(knex, 'odata', 'globex')).list()).length).toBe(
        names.length,
      )
      const listed = new Set((await json('/odata/', globexKey)).value.map((s) => s.name))
      expect(names.filter((n) => !listed.has(`saved_${n}`))).toEqual([])
    } finally {
      await knex.transaction(async (trx) => {
        const store = savedQuestionStore(connectorState(trx, 'odata', 'globex'))
        for (const name of names) await store.remove(name)
      })
    }
  })
})

describe('connector download', () => {
  it('serves NL2Q.mez without credentials', async () => {
    const res = await running.app.request(`${BASE}/powerbi/NL2Q.mez`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('application/zip')
    const bytes = new Uint8Array(await res.arrayBuffer())
    expect([...bytes.subarray(0, 4)]).toEqual([0x50, 0x4b, 0x03, 0x04])
  })
})
