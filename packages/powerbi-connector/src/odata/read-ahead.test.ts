import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createApiKey, createAuditLog, createHubApp, loadConfig, type RunningHub } from '@nl2q/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createPowerBiConnector } from '../connector.ts'
import type { Page } from './page.ts'
import { createReadAhead } from './read-ahead.ts'

const page = (length: number): Page => ({
  properties: [],
  rows: [],
  columns: [],
  length,
  nextToken: null,
  remainingTop: null,
  count: null,
})

describe('createReadAhead', () => {
  it('hands a page to one taker only, and nothing for another key', async () => {
    const ra = createReadAhead<Page>()
    ra.start('a', async () => page(3))
    expect(ra.take('b')).toBeNull()
    expect((await ra.take('a'))?.length).toBe(3)
    expect(ra.take('a')).toBeNull()
  })

  it('turns a failed read into a miss', async () => {
    const ra = createReadAhead<Page>()
    ra.start('a', async () => {
      throw new Error('boom')
    })
    expect(await ra.take('a')).toBeNull()
  })

  it('keeps at most maxEntries pages, dropping the oldest', () => {
    const ra = createReadAhead<Page>({ maxEntries: 2 })
    for (const k of ['a', 'b', 'c']) ra.start(k, async () => page(1))
    expect(ra.take('a')).toBeNull()
    expect(ra.take('b')).not.toBeNull()
    expect(ra.take('c')).not.toBeNull()
  })

  it('drops a page nobody took within ttlMs', async () => {
    const ra = createReadAhead<Page>({ ttlMs: 20 })
    ra.start('a', async () => page(1))
    await new Promise((r) => setTimeout(r, 60))
    expect(ra.take('a')).toBeNull()
  })
})

describe('the feed with read-ahead (real hub, demo tenants)', () => {
  let home: string
  let running: RunningHub
  let key: string
  const headers = (k: string) => ({
    authorization: `Bearer ${k}`,
    accept: 'application/json;odata.metadata=minimal',
    prefer: 'odata.maxpagesize=700',
  })
  const get = (url: string, k: string) => running.app.request(url, { headers: headers(k) })

  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 'nl2q-read-ahead-'))
    const config = loadConfig({
      ...process.env,
      HUB_HOME: home,
      HUB_DEMO: '1',
      HUB_LOG_LEVEL: 'silent',
      HUB_RATE_LIMIT: '100000',
      HUB_DATABASE_URL: undefined,
    })
    running = await createHubApp(config, { connectors: [createPowerBiConnector({ pageSize: 5000 })] })
    key = readFileSync(join(home, 'acme.key'), 'utf8').trim()
  }, 120_000)

  afterAll(async () => {
    await running?.close()
    rmSync(home, { recursive: true, force: true })
  })

  it('serves every page of a full read once, each request with its own audit record', async () => {
    const first = 'http://hub.test/odata/hcps?$select=hcp_id,segment'
    const ids: string[] = []
    const requestIds: string[] = []
    let next: string | undefined = first
    for (let pages = 0; next && pages < 50; pages++) {
      const res = await get(next, key)
      expect(res.status).toBe(200)
      requestIds.push(res.headers.get('x-request-id') as string)
      const body = (await res.json()) as { value: { hcp_id: string }[]; '@odata.nextLink'?: string }
      ids.push(...body.value.map((r) => r.hcp_id))
      next = body['@odata.nextLink']
    }
    expect(requestIds.length).toBeGreaterThan(2)
    expect(new Set(ids).size).toBe(ids.length)
    const count = Number(await (await get('http://hub.test/odata/hcps/$count', key)).text())
    expect(ids.length).toBe(count)

    const audit = createAuditLog(running.services.metadata)
    const events = (await audit.list('acme', { action: 'data.query', limit: 1000 })).items
    for (const [i, id] of requestIds.entries()) {
      const served = events.filter((e) => e.requestId === id && e.outcome === 'success')
      // The first page is read in its request; later ones were read ahead and are recorded as served.
      expect(served.length, `request ${i}`).toBeGreaterThan(0)
      if (i > 0) expect(served.some((e) => e.detail?.readAhead === true)).toBe(true)
    }
  })

  it('never hands a page read ahead for one credential to another', async () => {
    const other = (
      await createApiKey(running.services.metadata, { tenant: 'acme', role: 'viewer', label: 'other' })
    ).secret
    const res = await get('http://hub.test/odata/hcps?$select=hcp_id,segment', key)
    const link = ((await res.json()) as { '@odata.nextLink': string })['@odata.nextLink']
    const theirs = await get(link, other)
    expect(theirs.status).toBe(200)
    const id = theirs.headers.get('x-request-id')
    await (await get(link, key)).json()
    const audit = createAuditLog(running.services.metadata)
    const events = (await audit.list('acme', { action: 'data.query', limit: 50 })).items
    const forOther = events.filter((e) => e.requestId === id)
    expect(forOther.length).toBeGreaterThan(0)
    expect(forOther.every((e) => e.detail?.readAhead !== true)).toBe(true)
  })

  it('serves a page read ahead only in the number format it was rendered for', async () => {
    const res = await get('http://hub.test/odata/prescriptions?$select=rx_id,trx', key)
    const link = ((await res.json()) as { '@odata.nextLink': string })['@odata.nextLink']
    const ieee = await running.app.request(link, {
      headers: {
        ...headers(key),
        accept: 'application/json;odata.metadata=minimal;IEEE754Compatible=true',
      },
    })
    const body = (await ieee.json()) as { value: { rx_id: unknown; trx: unknown }[] }
    expect(typeof body.value[0]?.rx_id).toBe('string')
    const plain = (await (await get(link, key)).json()) as { value: { rx_id: unknown }[] }
    expect(typeof plain.value[0]?.rx_id).toBe('number')
  })
})
