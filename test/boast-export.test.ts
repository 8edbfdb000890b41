import { existsSync, readFileSync, rmSync, statSync } from 'node:fs'
import { join } from 'node:path'
import SftpClient from 'ssh2-sftp-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { receiptKey } from '../packages/connectors/src/boast/export/receipts.ts'
import { connectorState } from '../packages/core/src/connectors/state-store.ts'
import { openDataSource } from '../packages/core/src/db/index.ts'
import { boastHub, ls, readExport, runJob, sha256 } from './boast-helpers.ts'
import { type Sshd, startSshd } from './emulators/sshd/sshd.ts'
import { runHub } from './helpers/cli.ts'
import type { TestHub } from './helpers/hub.ts'

// Every prescription of the demo tenant, as rows (the export of the issue: ~300k rows at scale 1).
const PRESCRIPTIONS = {
  dataset: 'prescriptions',
  select: ['rx_id', 'hcp_id', 'product_id', 'week_ending', 'payer_type', 'trx', 'nrx', 'quantity'].map(
    (f) => ({
      field: `prescriptions.${f}`,
      as: f,
    }),
  ),
  order: [{ by: 'rx_id', direction: 'asc' }],
}

describe('BOAST exports to a real OpenSSH server', () => {
  let sshd: Sshd
  let hub: TestHub
  let out: string
  let expectedRows: number

  beforeAll(async () => {
    sshd = await startSshd()
    hub = await boastHub(sshd)
    out = join(sshd.root, 'out')
    const ds = openDataSource(`sqlite:${join(hub.home, 'tenants', 'acme.sqlite')}`, { readOnly: true })
    try {
      const [row] = (await ds.knex('prescriptions').count({ n: '*' })) as { n: number }[]
      expectedRows = Number(row?.n)
    } finally {
      await ds.knex.destroy()
    }
  }, 60_000)

  afterAll(async () => {
    await hub?.close()
    await sshd?.stop()
  })

  it('streams every prescription as gzip CSV with a manifest whose checksum and count match the file', async () => {
    expect(expectedRows).toBeGreaterThan(200_000)
    const run = await runJob(hub, 'export', {
      export: 'rx-all',
      plan: PRESCRIPTIONS,
      to: sshd.url('out'),
      asOf: '2025-01-15',
    })
    expect(run.error).toBeNull()
    expect(run.status).toBe('succeeded')
    const file = `rx-all_2025-01-15_${run.id}.csv.gz`
    expect(ls(out)).toEqual([file, `${file}.manifest.json`])
    const back = readExport(out, file)
    expect(back.header).toEqual(PRESCRIPTIONS.select.map((s) => s.as))
    expect(back.rows.length).toBe(expectedRows)
    expect(back.text.slice(0, 80)).toMatch(
      /^rx_id,hcp_id,product_id,week_ending,payer_type,trx,nrx,quantity\r\n1,/,
    )
    expect(back.rows[0]?.[3]).toMatch(/^\d{4}-\d{2}-\d{2}$/)
    expect(back.manifest).toMatchObject({
      exportId: 'rx-all',
      runId: run.id,
      tenant: 'acme',
      question: null,
      asOf: '2025-01-15',
      file,
      rowCount: expectedRows,
      bytes: back.bytes.length,
      sha256: sha256(back.bytes),
      format: { type: 'csv', delimiter: ',', gzip: true, encoding: 'utf-8' },
    })
    expect(back.manifest.planHash).toMatch(/^[0-9a-f]{64}$/)
    expect(back.manifest.columns).toContainEqual({ name: 'week_ending', type: 'date' })
    expect(back.manifest.hubVersion).toMatch(/^\d+\.\d+\.\d+/)
    expect(run.result).toMatchObject({ outcome: 'delivered', rowCount: expectedRows, file, attempts: 1 })
    // audited per run: the export itself and the job's start/finish
    const audit = await hub.call('/v1/audit?limit=50', { key: hub.keys.acme })
    const events = ((await audit.json()) as { items: { action: string; outcome: string }[] }).items
    expect(events.map((e) => e.action)).toEqual(
      expect.arrayContaining(['boast.export', 'job.start', 'job.finish']),
    )
  }, 300_000)

  it('skips a second run of the same export and date instead of delivering a duplicate', async () => {
    const before = ls(out)
    const run = await runJob(hub, 'export', {
      export: 'rx-all',
      plan: PRESCRIPTIONS,
      to: sshd.url('out'),
      asOf: '2025-01-15',
    })
    expect(run.status).toBe('succeeded')
    expect(run.result).toMatchObject({ outcome: 'skipped' })
    expect(ls(out)).toEqual(before)
  })

  it('delivers the same export and date to a second destination, and still skips the first', async () => {
    const inbox = join(sshd.root, 'inbox')
    const before = ls(inbox)
    const plan = { ...PRESCRIPTIONS, limit: 10 }
    const first = await runJob(hub, 'export', {
      export: 'rx-two',
      plan,
      to: sshd.url('out'),
      asOf: '2025-01-16',
    })
    expect(first.result).toMatchObject({ outcome: 'delivered' })
    const second = await runJob(hub, 'export', {
      export: 'rx-two',
      plan,
      to: sshd.url('inbox'),
      asOf: '2025-01-16',
    })
    expect(second.result).toMatchObject({ outcome: 'delivered' })
    expect(ls(inbox).filter((f) => !before.includes(f))).toEqual([
      `rx-two_2025-01-16_${second.id}.csv.gz`,
      `rx-two_2025-01-16_${second.id}.csv.gz.manifest.json`,
    ])
    // the first destination spelt with a trailing slash is still the first
    const again = await runJob(hub, 'export', {
      export: 'rx-two',
      plan,
      to: `${sshd.url('out')}/`,
      asOf: '2025-01-16',
    })
    expect(again.result).toMatchObject({ outcome: 'skipped' })
    for (const f of ls(inbox).filter((f) => !before.includes(f))) rmSync(join(inbox, f))
  })

  it('answers a question in words with its delimiter and no gzip, ISO dates and dot decimals', async () => {
    const run = await runJob(hub, 'export', {
      export: 'trx-by-month',
      question: 'total trx by month in 2024',
      to: sshd.url('out'),
      asOf: '2025-01-15',
      gzip: false,
      delimiter: ';',
    })
    expect(run.error).toBeNull()
    const file = `trx-by-month_2025-01-15_${run.id}.csv`
    const back = readExport(out, file)
    expect(back.manifest.question).toBe('total trx by month in 2024')
    expect(back.manifest.format).toMatchObject({ delimiter: ';', gzip: false })
    expect(back.rows.length).toBe(back.manifest.rowCount)
    expect(back.rows.length).toBeGreaterThan(0)
    expect(back.text.split('\r\n')[0]).toContain(';')
  }, 120_000)

  it('retries after sshd is killed mid-upload: the file restarts, no .part is left, no duplicate', async () => {
    const dir = join(sshd.root, 'out')
    const job = runJob(hub, 'export', {
      export: 'rx-retry',
      plan: PRESCRIPTIONS,
      to: sshd.url('out'),
      asOf: '2025-02-01',
    })
    // wait until the upload is under way, then crash the server (every session process with it)
    let killed = false
    for (let i = 0; i < 1200 && !killed; i++) {
      const part = ls(dir).find((f) => f.startsWith('rx-retry_') && f.endsWith('.part'))
      if (part && statSync(join(dir, part)).size > 64 * 1024) {
        sshd.kill()
        killed = true
      } else await new Promise((r) => setTimeout(r, 50))
    }
    expect(killed).toBe(true)
    await new Promise((r) => setTimeout(r, 500))
    await sshd.restart()
    const run = await job
    expect(run.error).toBeNull()
    expect((run.result as { attempts: number }).attempts).toBeGreaterThanOrEqual(2)
    const files = ls(dir).filter((f) => f.startsWith('rx-retry_'))
    const file = `rx-retry_2025-02-01_${run.id}.csv.gz`
    expect(files).toEqual([file, `${file}.manifest.json`])
    const back = readExport(dir, file)
    expect(back.rows.length).toBe(expectedRows)
    expect(back.manifest.sha256).toBe(sha256(back.bytes))
  }, 300_000)

  it('adopts the final file of a run that crashed between the rename and the receipt', async () => {
    // What a crash leaves: the data file renamed into place, a staged receipt, no manifest.
    const body = Buffer.from('a,b\r\n1,2\r\n')
    const file = 'crashed_2025-03-01_run-1.csv'
    const { writeFileSync } = await import('node:fs')
    writeFileSync(join(out, file), body)
    const plan = { dataset: 'prescriptions', select: [{ field: 'prescriptions.rx_id', as: 'a' }], limit: 1 }
    await connectorState(hub.services.metadata.knex, 'boast', 'acme')
      .table('receipts')
      .put(receiptKey('crashed', '2025-03-01', sshd.url('out')), {
        status: 'staged',
        runId: 'run-1',
        destination: `sftp://${sshd.user}@127.0.0.1:${sshd.port}/out`,
        file,
        bytes: body.length,
        sha256: sha256(body),
        rowCount: 1,
        columns: [{ name: 'a', type: 'integer' }],
        planHash: 'x'.repeat(64),
        question: null,
        gzip: false,
        delimiter: ',',
        at: new Date().toISOString(),
      })
    const run = await runJob(hub, 'export', {
      export: 'crashed',
      plan,
      to: sshd.url('out'),
      asOf: '2025-03-01',
      gzip: false,
    })
    expect(run.error).toBeNull()
    expect(run.result).toMatchObject({ outcome: 'adopted', file })
    expect(ls(out).filter((f) => f.startsWith('crashed_'))).toEqual([file, `${file}.manifest.json`])
    const manifest = JSON.parse(readFileSync(join(out, `${file}.manifest.json`), 'utf8'))
    expect(manifest).toMatchObject({ sha256: sha256(body), bytes: body.length, runId: 'run-1' })
  })

  it('refuses a server whose host key is not the pinned one, and writes nothing', async () => {
    const other = await startSshd()
    try {
      const before = ls(join(other.root, 'out'))
      const run = await runJob(hub, 'export', {
        export: 'wrong-key',
        plan: PRESCRIPTIONS,
        to: other.url('out'),
      })
      expect(run.status).toBe('failed')
      expect(run.error?.code).toBe('FORBIDDEN')
      expect(run.error?.message).toMatch(/host key .* is SHA256:.*not the pinned/)
      expect(ls(join(other.root, 'out'))).toEqual(before)
    } finally {
      await other.stop()
    }
  })

  it('lets a concurrent poller see a final file only when it is complete', async () => {
    const watcher = new SftpClient('watcher')
    await watcher.connect({
      host: '127.0.0.1',
      port: sshd.port,
      username: sshd.user,
      privateKey: sshd.clientKey,
      hostVerifier: () => true,
    })
    const seen = new Map<string, Set<number>>()
    let polling = true
    const poller = (async () => {
      while (polling) {
        for (const e of await watcher.list('/out')) {
          if (!e.name.startsWith('rx-watch_') || e.name.endsWith('.part')) continue
          const sizes = seen.get(e.name) ?? new Set<number>()
          sizes.add(e.size)
          seen.set(e.name, sizes)
        }
      }
    })()
    try {
      const run = await runJob(hub, 'export', {
        export: 'rx-watch',
        plan: PRESCRIPTIONS,
        to: sshd.url('out'),
        asOf: '2025-04-01',
      })
      expect(run.error).toBeNull()
      await new Promise((r) => setTimeout(r, 300))
      polling = false
      await poller
      const file = (run.result as { file: string }).file
      const size = statSync(join(out, file)).size
      expect(seen.get(file)).toEqual(new Set([size]))
      const manifest = `${file}.manifest.json`
      expect(seen.get(manifest)).toEqual(new Set([statSync(join(out, manifest)).size]))
    } finally {
      polling = false
      await poller.catch(() => undefined)
      await watcher.end()
    }
  }, 300_000)

  it('exports a Power BI saved question by name from the hub CLI, with run history', async () => {
    await connectorState(hub.services.metadata.knex, 'odata', 'acme')
      .table('saved_questions')
      .put('monthly_trx', {
        id: 'sq-1',
        name: 'monthly_trx',
        question: 'total trx by month in 2024',
        asOf: '2025-01-15',
        columns: [],
        createdBy: 'test',
        createdAt: new Date().toISOString(),
      })
    const env = { HUB_HOME: hub.home, HUB_LOG_LEVEL: 'silent' }
    const r = await runHub(
      [
        'boast',
        'export',
        '--tenant',
        'acme',
        '--saved',
        'monthly_trx',
        '--to',
        sshd.url('out'),
        '--as-of',
        '2025-01-31',
        '--now',
      ],
      env,
    )
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const printed = JSON.parse(r.stdout) as { runId: string; status: string; file: string; rowCount: number }
    expect(printed).toMatchObject({
      status: 'succeeded',
      exportId: 'saved-monthly_trx',
      outcome: 'delivered',
    })
    expect(printed.file).toBe(`saved-monthly_trx_2025-01-31_${printed.runId}.csv.gz`)
    const back = readExport(out, printed.file)
    expect(back.manifest.question).toBe('total trx by month in 2024')
    expect(back.rows.length).toBe(printed.rowCount)
    const history = await runHub(['job', 'history', '--tenant', 'acme', '--json'], env)
    expect(history.stdout).toContain(printed.runId)
    // without --as-of the saved question's own date labels the file and the manifest
    const own = await runJob(hub, 'export', { saved: 'monthly_trx', to: sshd.url('out') })
    expect(own.error).toBeNull()
    expect(own.result).toMatchObject({
      asOf: '2025-01-15',
      file: `saved-monthly_trx_2025-01-15_${own.id}.csv.gz`,
    })
    expect(readExport(out, `saved-monthly_trx_2025-01-15_${own.id}.csv.gz`).manifest.asOf).toBe('2025-01-15')
    const missing = await runHub(
      ['boast', 'export', '--tenant', 'acme', '--saved', 'nope', '--to', sshd.url('out'), '--now'],
      env,
    )
    expect(missing.code).not.toBe(0)
    expect(missing.stdout).toContain('NOT_FOUND')
  }, 180_000)

  it('refuses an input with no source, two sources or a bad date before it runs', async () => {
    await expect(runJob(hub, 'export', { to: sshd.url('out') })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    })
    await expect(
      runJob(hub, 'export', { question: 'total trx', plan: PRESCRIPTIONS, to: sshd.url('out') }),
    ).rejects.toMatchObject({ code: 'BAD_REQUEST' })
    await expect(
      runJob(hub, 'export', { question: 'total trx', asOf: '2025-02-30x', to: sshd.url('out') }),
    ).rejects.toMatchObject({ code: 'BAD_REQUEST' })
    expect(existsSync(join(out, 'wrong-key'))).toBe(false)
  })
})
