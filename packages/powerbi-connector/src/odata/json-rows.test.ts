import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createAuditLog, createHubApp, loadConfig, openDataSource, type RunningHub } from '@nl2q/core'
import { createTestDatabase } from '@nl2q/core/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createPowerBiConnector } from '../connector.ts'

/**
 * The feed over MariaDB with JSON rows built by the database and without: the same bodies byte for
 * byte, page after page, for values JSON writes in more than one way (escapes, non-ASCII, BIGINTs a
 * double cannot hold, NULLs, booleans, zero dates).
 */
const CONTROL = Array.from({ length: 32 }, (_, i) => String.fromCharCode(i)).join('')
const TEXTS = [
  'plain',
  `quote " backslash \\ slash / ${CONTROL}`,
  '\\u000B written out',
  'é ü — “x” \u2028 😀',
  null,
]
const BIGS = [0, -1, 9007199254740991, 9007199254740993n, -9223372036854775808n, null]
const SELECT = 'id,big,small,flag,name,latin,day'

describe('the feed with JSON rows (MariaDB)', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>
  const homes: string[] = []
  const hubs: { running: RunningHub; key: string }[] = []

  async function start(jsonRows: boolean) {
    const home = mkdtempSync(join(tmpdir(), 'nl2q-json-rows-'))
    homes.push(home)
    const env = { ...process.env, HUB_HOME: home, HUB_LOG_LEVEL: 'silent', HUB_DATABASE_URL: undefined }
    const setup = await createHubApp(loadConfig({ ...env, HUB_DEMO: '0' }), { noConnectors: true })
    try {
      await setup.services.tenants.add({ id: 'acme', dbUrl: db.url })
    } finally {
      await setup.close()
    }
    const running = await createHubApp(loadConfig({ ...env, HUB_DEMO: '1', HUB_RATE_LIMIT: '100000' }), {
      connectors: [createPowerBiConnector({ pageSize: 7, jsonRows })],
    })
    hubs.push({ running, key: readFileSync(join(home, 'acme.key'), 'utf8').trim() })
  }

  beforeAll(async () => {
    db = await createTestDatabase('nl2q_odata_json')
    const ds = openDataSource(db.url)
    try {
      await ds.knex.raw(`CREATE TABLE things (
        id INT NOT NULL PRIMARY KEY,
        big BIGINT NULL,
        small INT UNSIGNED NOT NULL,
        flag TINYINT(1) NULL,
        name VARCHAR(200) NULL,
        latin VARCHAR(40) CHARACTER SET latin1 NULL,
        day DATE NULL,
        price DECIMAL(10, 2) NULL
      )`)
      await ds.knex.raw("SET SESSION sql_mode = ''")
      await ds.knex('things').insert(
        TEXTS.flatMap((name, i) =>
          BIGS.map((big, j) => ({
            id: i * BIGS.length + j + 1,
            big: typeof big === 'bigint' ? big.toString() : big,
            small: (i + 1) * (j + 1),
            flag: j % 3 === 2 ? null : j % 2,
            name,
            latin: j % 2 ? 'café' : null,
            day: j % 4 === 3 ? null : j % 4 === 2 ? '0000-00-00' : `2024-0${j + 1}-1${i}`,
            price: '12.50',
          })),
        ),
      )
    } finally {
      await ds.knex.destroy()
    }
    await start(true)
    await start(false)
  }, 120_000)

  afterAll(async () => {
    for (const h of hubs) await h.running.close()
    for (const home of homes) rmSync(home, { recursive: true, force: true })
    await db?.drop()
  })

  async function readAll(h: (typeof hubs)[number], first: string, accept?: string): Promise<string[]> {
    const bodies: string[] = []
    let next: string | undefined = first
    while (next && bodies.length < 20) {
      const res = await h.running.app.request(next, {
        headers: {
          authorization: `Bearer ${h.key}`,
          accept: accept ?? 'application/json;odata.metadata=minimal',
        },
      })
      expect(res.status).toBe(200)
      const text = await res.text()
      bodies.push(text)
      next = (JSON.parse(text) as { '@odata.nextLink'?: string })['@odata.nextLink']
    }
    return bodies
  }

  it('serves the same bytes with and without JSON rows, page after page', async () => {
    const [withJson, without] = hubs as [(typeof hubs)[number], (typeof hubs)[number]]
    for (const url of [
      `http://hub.test/odata/things?$select=${SELECT}`,
      `http://hub.test/odata/things?$select=name,day&$orderby=day desc`,
      `http://hub.test/odata/things?$select=${SELECT}&$filter=big ne null&$top=9`,
      // a decimal column: rendered by the feed on both
      'http://hub.test/odata/things',
    ]) {
      const a = await readAll(withJson, url)
      const b = await readAll(without, url)
      expect(a.length, url).toBeGreaterThan(1)
      expect(a, url).toEqual(b)
    }
    const total = (await readAll(withJson, `http://hub.test/odata/things?$select=${SELECT}`))
      .map((t) => (JSON.parse(t) as { value: unknown[] }).value.length)
      .reduce((x, y) => x + y, 0)
    expect(total).toBe(TEXTS.length * BIGS.length)
    // IEEE754Compatible is written by the feed (Int64 as strings), the same on both hubs
    const ieee = 'application/json;odata.metadata=minimal;IEEE754Compatible=true'
    const url = `http://hub.test/odata/things?$select=${SELECT}`
    expect(await readAll(withJson, url, ieee)).toEqual(await readAll(without, url, ieee))
  })

  it('ran other SQL for the JSON rows, each page audited as before', async () => {
    const sqlHashes = async (h: (typeof hubs)[number]) => {
      const audit = createAuditLog(h.running.services.metadata)
      const events = (await audit.list('acme', { action: 'data.query', limit: 1000 })).items
      return new Set(events.filter((e) => e.outcome === 'success').map((e) => e.sqlHash))
    }
    const [withJson, without] = hubs as [(typeof hubs)[number], (typeof hubs)[number]]
    const a = await sqlHashes(withJson)
    const b = await sqlHashes(without)
    expect(a.size).toBeGreaterThan(1)
    // the pages of the JSON read ran SQL the other hub never ran
    expect([...a].some((h) => !b.has(h))).toBe(true)
  })
})
