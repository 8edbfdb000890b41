// BOAST exports delivered to SharePoint (m365://) through the real export job and the Graph SDK's
// upload sessions, against the HTTPS Graph emulator: data file then manifest, checksums read back
// from the emulator, conflict `fail` on a taken name, a dropped chunk resumed.
import { createHash } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { parse } from 'csv-parse/sync'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import {
  type GraphEmulator,
  startGraphEmulator,
} from '../packages/connectors/src/m365/testing/graph-emulator.ts'
import { openDataSource } from '../packages/core/src/db/index.ts'
import { boast, runJob, setSecret, setSettings } from './boast-helpers.ts'
import { runHub } from './helpers/cli.ts'
import { createTestHub, type TestHub } from './helpers/hub.ts'

const SITE =
  'contoso.sharepoint.com,11111111-aaaa-bbbb-cccc-000000000001,22222222-aaaa-bbbb-cccc-000000000002'
const DRIVE = 'b!boast-drive'
const TO = `m365://sites/${SITE}/drives/${DRIVE}/root:/NL2Q/exports/`
const KEY = (name: string) => `drives/${DRIVE}/NL2Q/exports/${name}`

const PRESCRIPTIONS = {
  dataset: 'prescriptions',
  select: ['rx_id', 'hcp_id', 'product_id', 'week_ending', 'payer_type', 'trx', 'nrx', 'quantity'].map(
    (f) => ({ field: `prescriptions.${f}`, as: f }),
  ),
  order: [{ by: 'rx_id', direction: 'asc' }],
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex')

describe('BOAST exports to Microsoft 365 (m365://) over Graph upload sessions', () => {
  let graph: GraphEmulator
  let hub: TestHub
  let dir: string
  let expectedRows: number

  /** The items the emulator holds under the export folder, by name. */
  const delivered = () =>
    [...graph.items.keys()]
      .filter((k) => k.startsWith(KEY('')))
      .map((k) => k.slice(KEY('').length))
      .sort()
  const content = (name: string) => graph.item(KEY(name))?.content ?? Buffer.alloc(0)
  /** The order in which files were committed: each upload's last chunk (or simple PUT) that stored it. */
  const commits = () =>
    graph.requests
      .filter(
        (r) => (r.route === 'chunk' && r.method === 'PUT' && r.status < 300) || r.route === 'createSession',
      )
      .map((r) => r.route)

  beforeAll(async () => {
    graph = await startGraphEmulator()
    graph.registerApp('boast-app', { directory: 'dir-boast', secret: 'b0ast-s3cret' })
    dir = mkdtempSync(join(tmpdir(), 'nl2q-boast-m365-'))
    writeFileSync(join(dir, 'graph-ca.pem'), graph.caPem)
    hub = await createTestHub({
      connectors: [boast()],
      env: { HUB_BOAST_RETRY_BASE_MS: '200' },
    })
    // The exporting connector's tenant settings carry the Entra app; its secrets the credential.
    await setSettings(hub, 'acme', {
      directory: 'dir-boast',
      client_id: 'boast-app',
      graph_url: graph.url,
      login_url: graph.url,
      ca_file: join(dir, 'graph-ca.pem'),
      chunk_kib: '320',
    })
    await setSecret(hub, 'acme', 'client_secret', 'b0ast-s3cret')
    const ds = openDataSource(`sqlite:${join(hub.home, 'tenants', 'acme.sqlite')}`, { readOnly: true })
    try {
      const [row] = (await ds.knex('prescriptions').count({ n: '*' })) as { n: number }[]
      expectedRows = Number(row?.n)
    } finally {
      await ds.knex.destroy()
    }
  }, 120_000)

  afterAll(async () => {
    await hub?.close()
    await graph?.close()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  beforeEach(() => {
    graph.requests.length = 0
  })

  it('delivers every prescription and then its manifest, whose checksum is that of the stored bytes', async () => {
    expect(expectedRows).toBeGreaterThan(200_000)
    const run = await runJob(hub, 'export', {
      export: 'rx-m365',
      plan: PRESCRIPTIONS,
      to: TO,
      asOf: '2025-01-15',
    })
    expect(run.error).toBeNull()
    expect(run.status).toBe('succeeded')
    const file = `rx-m365_2025-01-15_${run.id}.csv.gz`
    expect(delivered()).toEqual([file, `${file}.manifest.json`])

    const bytes = content(file)
    const manifest = JSON.parse(content(`${file}.manifest.json`).toString('utf8'))
    expect(manifest).toMatchObject({
      exportId: 'rx-m365',
      runId: run.id,
      tenant: 'acme',
      asOf: '2025-01-15',
      file,
      rowCount: expectedRows,
      bytes: bytes.length,
      sha256: sha256(bytes),
      format: { type: 'csv', delimiter: ',', gzip: true, encoding: 'utf-8' },
    })
    const records = parse(gunzipSync(bytes).toString('utf8')) as string[][]
    expect(records[0]).toEqual(PRESCRIPTIONS.select.map((s) => s.as))
    expect(records.length - 1).toBe(expectedRows)
    expect(run.result).toMatchObject({ outcome: 'delivered', destination: TO, file, sha256: sha256(bytes) })

    // The data file went up as an upload session in 320 KiB chunks, committed before the manifest
    // was even started: the manifest's session is created only after the data's last chunk.
    const sessions = graph.requests.filter((r) => r.route === 'createSession')
    expect(sessions.map((s) => decodeURIComponent(s.path))).toEqual([
      expect.stringContaining(`/${file}:/createUploadSession`),
      expect.stringContaining(`/${file}.manifest.json:/createUploadSession`),
    ])
    const order = commits()
    expect(order[0]).toBe('createSession')
    expect(order.lastIndexOf('createSession')).toBe(order.length - 2)
    expect(order.filter((r) => r === 'chunk').length).toBe(Math.ceil(bytes.length / (320 * 1024)) + 1)
    // upload URLs are pre-authenticated: chunks carry no token
    expect(graph.requests.some((r) => r.route === 'chunk' && r.authorized)).toBe(false)

    // the same export and date again is skipped by its receipt, not delivered twice
    const again = await runJob(hub, 'export', {
      export: 'rx-m365',
      plan: PRESCRIPTIONS,
      to: TO,
      asOf: '2025-01-15',
    })
    expect(again.result).toMatchObject({ outcome: 'skipped', file })
    expect(delivered()).toEqual([file, `${file}.manifest.json`])
  }, 300_000)

  it('resumes a dropped chunk mid-upload from the session and stores exactly the bytes sent', async () => {
    graph.dropChunk(3)
    const run = await runJob(hub, 'export', {
      export: 'rx-drop',
      plan: PRESCRIPTIONS,
      to: TO,
      asOf: '2025-02-01',
    })
    expect(run.error).toBeNull()
    const file = `rx-drop_2025-02-01_${run.id}.csv.gz`
    const bytes = content(file)
    const manifest = JSON.parse(content(`${file}.manifest.json`).toString('utf8'))
    expect(manifest.sha256).toBe(sha256(bytes))
    expect(manifest.bytes).toBe(bytes.length)
    expect(parse(gunzipSync(bytes).toString('utf8')).length - 1).toBe(expectedRows)
    // the session was resumed (asked where it stood), not restarted: one data session, one job attempt
    expect(run.result).toMatchObject({ outcome: 'delivered', attempts: 1 })
    expect(graph.requests.filter((r) => r.route === 'createSession')).toHaveLength(2)
    expect(graph.requests.filter((r) => r.route === 'chunk' && r.method === 'GET')).toHaveLength(1)
    expect(delivered().filter((n) => n.startsWith('rx-drop_'))).toEqual([file, `${file}.manifest.json`])
  }, 300_000)

  it('refuses with CONFLICT when the data file name is taken during the upload, overwriting nothing', async () => {
    // Another writer puts a file under the run's name while its upload is under way (the dropped
    // chunk holds the upload open): conflict `fail` refuses at commit.
    graph.dropChunk(2)
    const foreign = Buffer.from('not ours\n')
    let taken: string | undefined
    const job = runJob(hub, 'export', { export: 'rx-taken', plan: PRESCRIPTIONS, to: TO, asOf: '2025-03-01' })
    for (let i = 0; i < 3000 && !taken; i++) {
      const session = graph.requests.find((r) => r.route === 'createSession' && r.path.includes('rx-taken_'))
      const name =
        session && /\/(rx-taken_[^/:]+):\/createUploadSession/.exec(decodeURIComponent(session.path))?.[1]
      if (name) {
        graph.items.set(KEY(name), {
          id: 'FOREIGN',
          name,
          content: foreign,
          modified: new Date().toISOString(),
        })
        taken = name
      } else await new Promise((r) => setTimeout(r, 10))
    }
    expect(taken).toBeDefined()
    const run = await job
    expect(run.status).toBe('failed')
    expect(run.error?.code).toBe('CONFLICT')
    expect(run.error?.message).toContain(taken)
    // the other writer's file is intact and no manifest describes a file that is not ours
    expect(content(taken as string).equals(foreign)).toBe(true)
    expect(delivered().filter((n) => n.startsWith('rx-taken_'))).toEqual([taken])
    // a conflict is not retried: one data session only
    expect(graph.requests.filter((r) => r.route === 'createSession')).toHaveLength(1)
  }, 300_000)

  it('a forced re-run delivers under its own run name and leaves the delivered file untouched', async () => {
    const first = await runJob(hub, 'export', {
      export: 'small',
      question: 'total trx by month in 2024',
      to: TO,
      asOf: '2025-01-31',
      gzip: false,
    })
    expect(first.error).toBeNull()
    const firstFile = `small_2025-01-31_${first.id}.csv`
    const before = content(firstFile)
    const forced = await runJob(hub, 'export', {
      export: 'small',
      question: 'total trx by month in 2024',
      to: TO,
      asOf: '2025-01-31',
      gzip: false,
      force: true,
    })
    expect(forced.error).toBeNull()
    const secondFile = `small_2025-01-31_${forced.id}.csv`
    expect(delivered().filter((n) => n.startsWith('small_'))).toEqual(
      [firstFile, `${firstFile}.manifest.json`, secondFile, `${secondFile}.manifest.json`].sort(),
    )
    expect(content(firstFile).equals(before)).toBe(true)
    const manifest = JSON.parse(content(`${secondFile}.manifest.json`).toString('utf8'))
    expect(manifest).toMatchObject({
      question: 'total trx by month in 2024',
      sha256: sha256(content(secondFile)),
    })
    expect(manifest.rowCount).toBeGreaterThan(0)
  }, 180_000)

  it('exports a question from the hub CLI to m365:// with the settings and secret stored for the tenant', async () => {
    const r = await runHub(
      [
        'boast',
        'export',
        '--tenant',
        'acme',
        '--question',
        'total trx by month in 2024',
        '--export',
        'cli-m365',
        '--to',
        TO,
        '--as-of',
        '2025-01-31',
        '--now',
      ],
      { HUB_HOME: hub.home, HUB_LOG_LEVEL: 'silent' },
    )
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const printed = JSON.parse(r.stdout) as { runId: string; status: string; file: string; rowCount: number }
    expect(printed).toMatchObject({ status: 'succeeded', outcome: 'delivered' })
    expect(printed.file).toBe(`cli-m365_2025-01-31_${printed.runId}.csv.gz`)
    const bytes = content(printed.file)
    const manifest = JSON.parse(content(`${printed.file}.manifest.json`).toString('utf8'))
    expect(manifest).toMatchObject({ sha256: sha256(bytes), bytes: bytes.length, rowCount: printed.rowCount })
    expect(parse(gunzipSync(bytes).toString('utf8')).length - 1).toBe(printed.rowCount)
  }, 180_000)

  it('refuses a destination when the tenant has no Entra app credential, writing nothing', async () => {
    const run = await runJob(hub, 'export', { export: 'nocred', plan: PRESCRIPTIONS, to: TO }, 'globex')
    expect(run.status).toBe('failed')
    expect(run.error?.code).toBe('CONFIG_INVALID')
    expect(delivered().some((n) => n.startsWith('nocred_'))).toBe(false)
  })
})
