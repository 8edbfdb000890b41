import { createHash, randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { HubError } from '@nl2q/core'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { openDelivery } from '../delivery/index.ts'
import { appGraphClient } from './app-graph.ts'
import { M365Config } from './config.ts'
import { M365Delivery } from './delivery.ts'
import './index.ts' // registers m365:
import { type GraphEmulator, startGraphEmulator } from './testing/graph-emulator.ts'

const SITE =
  'contoso.sharepoint.com,11111111-aaaa-bbbb-cccc-000000000001,22222222-aaaa-bbbb-cccc-000000000002'
const DRIVE = 'b!drive-123'
const DEST = `m365://sites/${SITE}/drives/${DRIVE}/root:/NL2Q/exports/`
const KEY = (name: string) => `drives/${DRIVE}/NL2Q/exports/${name}`
const CHUNK = 3_200 * 1024 // 10 × 320 KiB
let graph: GraphEmulator
let dir: string
let settings: Record<string, string>
let delivery: M365Delivery

beforeAll(async () => {
  graph = await startGraphEmulator()
  dir = mkdtempSync(join(tmpdir(), 'nl2q-m365-'))
  writeFileSync(join(dir, 'ca.pem'), graph.caPem)
  graph.registerApp('app', { directory: 'dir-1', secret: 's3cret' })
  settings = {
    directory: 'dir-1',
    client_id: 'app',
    graph_url: graph.url,
    login_url: graph.url,
    ca_file: join(dir, 'ca.pem'),
  }
  const client = await appGraphClient(M365Config.parse(settings), {
    get: async (n: string) => (n === 'client_secret' ? 's3cret' : undefined),
  })
  delivery = new M365Delivery(DEST, client, { chunkBytes: CHUNK })
})
afterAll(async () => {
  await graph?.close()
  rmSync(dir, { recursive: true, force: true })
})
beforeEach(() => {
  graph.requests.length = 0
})

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex')
/** A stream of `data` in 64 KiB pieces, as a pipeline would hand it over. */
const streamOf = (data: Buffer) =>
  Readable.from(
    (function* () {
      for (let i = 0; i < data.length; i += 65_536) yield data.subarray(i, i + 65_536)
    })(),
  )

describe('m365:// delivery through upload sessions', () => {
  it('uploads 50 MB in 320 KiB-multiple chunks and resumes after a dropped chunk', async () => {
    const data = randomBytes(50 * 1024 * 1024)
    graph.dropChunk(6)
    const out = await delivery.put({ name: 'rx_2026-12-04.csv', body: streamOf(data), conflict: 'fail' })
    expect(out).toEqual({ name: 'rx_2026-12-04.csv', bytes: data.length, sha256: sha(data) })
    const stored = graph.item(KEY('rx_2026-12-04.csv'))
    expect(stored && sha(stored.content)).toBe(sha(data))
    const chunks = graph.requests.filter((r) => r.route === 'chunk' && r.method === 'PUT')
    // 16 chunks, the sixth sent twice (its first connection dropped before it was stored)
    expect(chunks).toHaveLength(Math.ceil(data.length / CHUNK) + 1)
    expect(graph.requests.filter((r) => r.route === 'chunk' && r.method === 'GET')).toHaveLength(1)
    // upload URLs are pre-authenticated: the client sends them no token
    expect(chunks.some((r) => r.authorized)).toBe(false)
    expect(graph.requests.find((r) => r.route === 'createSession')?.authorized).toBe(true)
  }, 180_000)

  it('resumes after a throttled chunk, waiting the Retry-After', async () => {
    const data = randomBytes(2 * CHUNK + 1000)
    graph.inject('chunk', 429, { retryAfter: 1 })
    const out = await delivery.put({ name: 'throttled.csv', body: streamOf(data), conflict: 'fail' })
    expect(out.sha256).toBe(sha(data))
    const puts = graph.requests.filter((r) => r.route === 'chunk' && r.method === 'PUT')
    expect(puts[0]?.status).toBe(429)
    expect((puts[1]?.at ?? 0) - (puts[0]?.at ?? 0)).toBeGreaterThanOrEqual(900)
    expect(sha(graph.item(KEY('throttled.csv'))?.content ?? Buffer.alloc(0))).toBe(sha(data))
  })

  it('resumes after a chunk answered 503', async () => {
    const data = randomBytes(CHUNK + 5)
    graph.inject('chunk', 503)
    const out = await delivery.put({ name: 'flaky.csv', body: streamOf(data), conflict: 'fail' })
    expect(out.bytes).toBe(data.length)
  })

  it('never overwrites a data file (conflict fail) and replaces a manifest', async () => {
    const first = Buffer.from('a,b\n1,2\n')
    await delivery.put({ name: 'data.csv', body: streamOf(first), conflict: 'fail' })
    const err = await delivery
      .put({ name: 'data.csv', body: streamOf(Buffer.from('other')), conflict: 'fail' })
      .catch((e: unknown) => e)
    expect(err).toBeInstanceOf(HubError)
    expect((err as HubError).code).toBe('CONFLICT')
    expect(graph.item(KEY('data.csv'))?.content.toString()).toBe('a,b\n1,2\n')

    await delivery.put({ name: 'manifest.json', body: streamOf(Buffer.from('{"v":1}')), conflict: 'replace' })
    await delivery.put({ name: 'manifest.json', body: streamOf(Buffer.from('{"v":2}')), conflict: 'replace' })
    expect(graph.item(KEY('manifest.json'))?.content.toString()).toBe('{"v":2}')
  })

  it('leaves no file and cancels the session when a chunk is refused for good', async () => {
    graph.inject('chunk', 400)
    const err = await delivery
      .put({ name: 'refused.csv', body: streamOf(randomBytes(1000)), conflict: 'fail' })
      .catch((e: unknown) => e)
    expect((err as HubError).code).toBe('SERVICE_UNAVAILABLE')
    expect((err as HubError).message).toMatch(/refused\.csv.*400/)
    expect(graph.item(KEY('refused.csv'))).toBeUndefined()
    expect(graph.requests.some((r) => r.route === 'chunk' && r.method === 'DELETE' && r.status === 204)).toBe(
      true,
    )
  })

  it('says whether a file exists and delivers an empty file', async () => {
    expect(await delivery.exists('nothing-here.csv')).toBe(false)
    await delivery.put({ name: 'empty.csv', body: streamOf(Buffer.alloc(0)), conflict: 'fail' })
    expect(await delivery.exists('empty.csv')).toBe(true)
  })

  it('refuses names and destinations that are not plain SharePoint paths', async () => {
    await expect(
      delivery.put({ name: '../x.csv', body: streamOf(Buffer.from('x')), conflict: 'fail' }),
    ).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    })
    await expect(delivery.exists('a/b.csv')).rejects.toMatchObject({ code: 'VALIDATION_FAILED' })
    const client = await appGraphClient(M365Config.parse(settings), {
      get: async (n: string) => (n === 'client_secret' ? 's3cret' : undefined),
    })
    for (const bad of [
      'm365://sites/x/root:/a/',
      'm365://sites/x/drives/d/root:/a/../b/',
      'm365://drives/d/items/1',
    ])
      expect(() => new M365Delivery(bad, client, { chunkBytes: CHUNK })).toThrow(/m365|SharePoint/)
    expect(() => new M365Delivery(DEST, client, { chunkBytes: 1000 * 1024 })).toThrow(/320 KiB/)
  })

  it('opens through openDelivery with the scheme registered and the tenant scope', async () => {
    const d = await openDelivery(`m365://drives/${DRIVE}/root:/NL2Q/other/`, {
      config: { ...settings, chunk_kib: 320 },
      secrets: { get: async (n) => (n === 'client_secret' ? 's3cret' : undefined) },
    })
    const data = randomBytes(700 * 1024)
    await d.put({ name: 'small.csv', body: streamOf(data), conflict: 'fail' })
    expect(sha(graph.item(`drives/${DRIVE}/NL2Q/other/small.csv`)?.content ?? Buffer.alloc(0))).toBe(
      sha(data),
    )
    expect(graph.requests.filter((r) => r.route === 'chunk' && r.method === 'PUT')).toHaveLength(3)
    await d.close()
  })
})
