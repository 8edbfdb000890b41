import { existsSync, readFileSync, renameSync } from 'node:fs'
import { join } from 'node:path'
import SftpClient from 'ssh2-sftp-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connectorState } from '../packages/core/src/connectors/state-store.ts'
import { openDataSource } from '../packages/core/src/db/index.ts'
import { boastHub, ls, runJob, setSecret, setSettings, sha256 } from './boast-helpers.ts'
import { type Sshd, startSshd } from './emulators/sshd/sshd.ts'
import type { TestHub } from './helpers/hub.ts'

const COLUMNS = [
  { name: 'hcp_id', type: 'string', nullable: false },
  { name: 'target_trx', type: 'decimal' },
  { name: 'tier', type: 'integer' },
  { name: 'since', type: 'date' },
  { name: 'active', type: 'boolean' },
]
const ROWS = 20_000

/** A partner's reference file: CRLF CSV with a header, one cell optionally broken. */
function targetsCsv(opts: { bad?: { row: number; cell: string }; seed?: number } = {}): Buffer {
  const lines = ['hcp_id,target_trx,tier,since,active']
  for (let i = 1; i <= ROWS; i++) {
    const target = opts.bad?.row === i ? opts.bad.cell : ((i * 7 + (opts.seed ?? 0)) % 1000) / 4
    lines.push(
      `ACM-H${String(i).padStart(5, '0')},${target},${(i % 3) + 1},2024-0${(i % 9) + 1}-15,${i % 2 === 0}`,
    )
  }
  return Buffer.from(`${lines.join('\r\n')}\r\n`)
}

function manifestFor(file: string, body: Buffer, extra: Record<string, unknown> = {}) {
  return Buffer.from(
    JSON.stringify({
      file,
      table: 'boast_targets',
      sha256: sha256(body),
      rowCount: ROWS,
      columns: COLUMNS,
      ...extra,
    }),
  )
}

describe('BOAST inbound files from a real OpenSSH server', () => {
  let sshd: Sshd
  let hub: TestHub
  let partner: SftpClient
  let inbox: string
  const tenantDb = () => `sqlite:${join(hub.home, 'tenants', 'acme.sqlite')}`

  /** The table as it is: absent, or its row count and a sum over every typed column. */
  async function tableState(): Promise<string> {
    const ds = openDataSource(tenantDb(), { readOnly: true })
    try {
      if (!(await ds.knex.schema.hasTable('boast_targets'))) return 'absent'
      const [row] = (await ds
        .knex('boast_targets')
        .select(
          ds.knex.raw(
            'count(*) as n, sum(target_trx) as t, sum(tier) as k, max(since) as d, sum(active) as a',
          ),
        )) as Record<string, unknown>[]
      return JSON.stringify(row)
    } finally {
      await ds.knex.destroy()
    }
  }

  /** Upload as a partner does: the data file, then its manifest. */
  async function deliver(file: string, body: Buffer, manifest?: Buffer): Promise<void> {
    await partner.put(body, `/inbox/${file}`)
    if (manifest) await partner.put(manifest, `/inbox/${file}.manifest.json`)
  }

  const poll = () => runJob(hub, 'poll', { inbox: sshd.url('inbox') })
  const report = (file: string) =>
    JSON.parse(readFileSync(join(inbox, 'quarantine', `${file}.error.json`), 'utf8')) as {
      reason: string
      problemCount: number
      problems: { row: number; column: string | null; reason: string }[]
    }

  beforeAll(async () => {
    sshd = await startSshd()
    hub = await boastHub(sshd)
    inbox = join(sshd.root, 'inbox')
    await setSecret(hub, 'acme', 'sync_target_url', tenantDb())
    await setSettings(hub, 'acme', { inbound_manifest_grace_s: '0' })
    partner = new SftpClient('partner')
    await partner.connect({
      host: '127.0.0.1',
      port: sshd.port,
      username: sshd.user,
      privateKey: sshd.clientKey,
      hostVerifier: () => true,
    })
  }, 60_000)

  afterAll(async () => {
    await partner?.end()
    await hub?.close()
    await sshd?.stop()
  })

  it('quarantines a file that has no manifest, loading nothing', async () => {
    await deliver('orphan.csv', targetsCsv())
    const run = await poll()
    expect(run.error).toBeNull()
    expect(run.result).toMatchObject({
      loaded: [],
      quarantined: [{ file: 'orphan.csv', reason: 'missing manifest' }],
    })
    expect(ls(join(inbox, 'quarantine'))).toEqual(['orphan.csv', 'orphan.csv.error.json'])
    expect(report('orphan.csv').problems[0]?.reason).toMatch(/no orphan\.csv\.manifest\.json/)
    expect(await tableState()).toBe('absent')
  })

  it('quarantines a file whose checksum does not match, and the table is never created', async () => {
    const body = targetsCsv()
    await deliver(
      'bad-sum.csv',
      body,
      manifestFor('bad-sum.csv', body, { sha256: sha256(Buffer.from('other')) }),
    )
    const run = await poll()
    expect(run.result).toMatchObject({ quarantined: [{ file: 'bad-sum.csv', reason: 'checksum' }] })
    expect(report('bad-sum.csv').problems[0]?.reason).toMatch(/SHA-256 of the file is [0-9a-f]{64}/)
    expect(ls(inbox).filter((f) => f.startsWith('bad-sum'))).toEqual([])
    expect(await tableState()).toBe('absent')
  })

  it('loads a valid file in one transaction, moves it to processed/ and makes the table a dataset', async () => {
    const body = targetsCsv()
    await deliver('targets-1.csv', body, manifestFor('targets-1.csv', body))
    const run = await poll()
    expect(run.error).toBeNull()
    expect(run.result).toMatchObject({
      loaded: [{ file: 'targets-1.csv', table: 'boast_targets', rowCount: ROWS }],
      quarantined: [],
    })
    expect(ls(join(inbox, 'processed'))).toEqual(['targets-1.csv', 'targets-1.csv.manifest.json'])
    const state = JSON.parse(await tableState())
    expect(Number(state.n)).toBe(ROWS)
    expect(Number(state.a)).toBe(ROWS / 2)
    const datasets = await hub.call('/v1/datasets', { key: hub.keys.acme })
    const names = ((await datasets.json()) as { datasets: { name: string }[] }).datasets.map((d) => d.name)
    expect(names).toContain('boast_targets')
  })

  it('reports a bad type in row 12,345 and leaves the loaded table exactly as it was', async () => {
    const before = await tableState()
    const body = targetsCsv({ bad: { row: 12_345, cell: 'twelve' }, seed: 3 })
    await deliver('targets-2.csv', body, manifestFor('targets-2.csv', body))
    const run = await poll()
    expect(run.result).toMatchObject({
      loaded: [],
      quarantined: [{ file: 'targets-2.csv', reason: 'invalid' }],
    })
    const r = report('targets-2.csv')
    expect(r.problemCount).toBe(1)
    expect(r.problems).toEqual([{ row: 12_345, column: 'target_trx', reason: "'twelve' is not a decimal" }])
    expect(await tableState()).toBe(before)
  })

  it('keeps at most the first 100 problems of a file full of them', async () => {
    const before = await tableState()
    const body = Buffer.from(
      `${['hcp_id,target_trx,tier,since,active', ...Array.from({ length: 500 }, (_, i) => `H${i},x,1,2024-01-01,true`)].join('\r\n')}\r\n`,
    )
    await deliver('many.csv', body, manifestFor('many.csv', body, { rowCount: 500 }))
    await poll()
    const r = report('many.csv')
    expect(r.problemCount).toBe(500)
    expect(r.problems).toHaveLength(100)
    expect(r.problems[99]).toMatchObject({ row: 100, column: 'target_trx' })
    expect(await tableState()).toBe(before)
  })

  it('refuses a second delivery of the same bytes as a duplicate', async () => {
    const before = await tableState()
    const body = targetsCsv()
    await deliver('targets-1-again.csv', body, manifestFor('targets-1-again.csv', body))
    const run = await poll()
    expect(run.result).toMatchObject({
      loaded: [],
      quarantined: [{ file: 'targets-1-again.csv', reason: 'duplicate' }],
    })
    expect(report('targets-1-again.csv').problems[0]?.reason).toMatch(
      /were loaded as targets-1\.csv into boast_targets/,
    )
    expect(await tableState()).toBe(before)
  })

  it('never loads a file twice after a crash between its commit and its receipt (append mode)', async () => {
    const body = targetsCsv({ seed: 11 })
    await deliver('targets-append.csv', body, manifestFor('targets-append.csv', body, { mode: 'append' }))
    expect((await poll()).result).toMatchObject({ loaded: [{ file: 'targets-append.csv', rowCount: ROWS }] })
    const after = await tableState()
    // what a crash right after the load's commit leaves: no receipt, the pair still in the inbox
    await connectorState(hub.services.metadata.knex, 'boast', 'acme').table('inbound').delete(sha256(body))
    for (const f of ['targets-append.csv', 'targets-append.csv.manifest.json'])
      renameSync(join(inbox, 'processed', f), join(inbox, f))
    const run = await poll()
    expect(run.error).toBeNull()
    expect(run.result).toMatchObject({
      loaded: [{ file: 'targets-append.csv', table: 'boast_targets', rowCount: ROWS }],
      quarantined: [],
    })
    expect(await tableState()).toBe(after)
    expect(ls(join(inbox, 'processed'))).toContain('targets-append.csv.manifest.json')
    // and the ledger is bookkeeping, not a dataset
    const datasets = await hub.call('/v1/datasets', { key: hub.keys.acme })
    const names = ((await datasets.json()) as { datasets: { name: string }[] }).datasets.map((d) => d.name)
    expect(names).toContain('boast_targets')
    expect(names.some((n) => n.startsWith('nl2q_'))).toBe(false)
  })

  it('never loads a table outside the inbound prefix (the tenant’s own data)', async () => {
    const body = targetsCsv({ seed: 9 })
    await deliver('evil.csv', body, manifestFor('evil.csv', body, { table: 'prescriptions' }))
    const run = await poll()
    expect(run.result).toMatchObject({ quarantined: [{ file: 'evil.csv', reason: 'table not allowed' }] })
    expect(existsSync(join(inbox, 'evil.csv'))).toBe(false)
  })

  it('leaves a file whose manifest has not arrived alone while it is young', async () => {
    await setSettings(hub, 'acme', { inbound_manifest_grace_s: '3600' })
    try {
      await deliver('early.csv', targetsCsv({ seed: 4 }))
      const run = await poll()
      expect(run.result).toMatchObject({ loaded: [], quarantined: [] })
      expect(ls(inbox)).toContain('early.csv')
    } finally {
      await setSettings(hub, 'acme', { inbound_manifest_grace_s: '0' })
    }
  })
})
