import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAuditLog } from '../packages/core/src/audit/index.ts'
import { type DataSource, openDataSource } from '../packages/core/src/db/index.ts'
import { seedPharma } from '../packages/core/src/demo/index.ts'
import { boastHub, ls, readExport, runJob, setSecret, setSettings, sha256 } from './boast-helpers.ts'
import { type Sshd, startSshd } from './emulators/sshd/sshd.ts'
import type { TestHub } from './helpers/hub.ts'
import { createTestDatabase } from './helpers/mysql.ts'

const COLUMNS = ['rx_id', 'hcp_id', 'product_id', 'week_ending', 'payer_type', 'trx', 'nrx', 'quantity']
const PLAN = {
  dataset: 'prescriptions',
  select: COLUMNS.map((f) => ({ field: `prescriptions.${f}`, as: f })),
  order: [{ by: 'rx_id', direction: 'asc' }],
}

// The export's read on MariaDB is one streamed statement (a database cursor): every row comes from
// one snapshot, in small batches, whatever the table's size.
describe('BOAST export from a MariaDB tenant', () => {
  let sshd: Sshd
  let hub: TestHub
  let db: Awaited<ReturnType<typeof createTestDatabase>>
  let truth: DataSource

  beforeAll(async () => {
    db = await createTestDatabase('nl2q_boast_x')
    truth = openDataSource(db.url)
    await seedPharma(truth, { prefix: 'MDB', seed: 7, scale: 0.3 })
    sshd = await startSshd()
    hub = await boastHub(sshd)
    await hub.services.tenants.add({ id: 'mdb', dbUrl: db.url, model: 'pharma' })
    await setSettings(hub, 'mdb', { sftp_host_key_sha256: sshd.hostKeySha256, page_rows: '700' })
    await setSecret(hub, 'mdb', 'sftp_private_key', sshd.clientKey)
  }, 180_000)

  afterAll(async () => {
    await hub?.close()
    await sshd?.stop()
    await truth?.knex.destroy()
    await db?.drop()
  })

  it('streams every prescription, byte for byte what the database holds, with one read audited once', async () => {
    const [count] = (await truth.knex('prescriptions').count({ n: '*' }).sum({ trx: 'trx' })) as {
      n: number
      trx: number
    }[]
    const expected = Number(count?.n)
    expect(expected).toBeGreaterThan(50_000)
    const run = await runJob(
      hub,
      'export',
      { export: 'rx-mdb', plan: PLAN, to: sshd.url('out'), asOf: '2025-01-15' },
      'mdb',
    )
    expect(run.error).toBeNull()
    const file = `rx-mdb_2025-01-15_${run.id}.csv.gz`
    const out = join(sshd.root, 'out')
    expect(ls(out)).toEqual(expect.arrayContaining([file, `${file}.manifest.json`]))
    const back = readExport(out, file)
    expect(back.header).toEqual(COLUMNS)
    expect(back.rows).toHaveLength(expected)
    expect(back.manifest).toMatchObject({
      rowCount: expected,
      bytes: back.bytes.length,
      sha256: sha256(back.bytes),
    })
    // in key order, every key once, and the sums of the database
    const ids = back.rows.map((r) => Number(r[0]))
    expect(ids.every((id, i) => i === 0 || id > (ids[i - 1] as number))).toBe(true)
    expect(back.rows.reduce((s, r) => s + Number(r[5]), 0)).toBe(Number(count?.trx))
    const [first] = (await truth.knex('prescriptions').orderBy('rx_id').limit(1).select(COLUMNS)) as Record<
      string,
      unknown
    >[]
    expect(back.rows[0]).toEqual(
      COLUMNS.map((c) => {
        const v = first?.[c]
        return v instanceof Date
          ? v.toISOString().slice(0, 10)
          : v === null
            ? ''
            : String(Number.isNaN(Number(v)) ? v : Number(v))
      }),
    )

    const events = (await createAuditLog(hub.services.metadata).list('mdb', { limit: 100 })).items
    const reads = events.filter((e) => e.action === 'data.stream')
    expect(reads).toHaveLength(1)
    expect(reads[0]?.rowCount).toBe(expected)
  }, 300_000)
})
