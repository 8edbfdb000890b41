import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import knexFactory from 'knex'
import { createAuditLog } from '../packages/core/src/audit/index.ts'
import { openMetadataStore } from '../packages/core/src/metadata/store.ts'
import { BENCH_MYSQL, fmt, pool, row } from './lib.ts'

const N = 2000
const CONCURRENCY = 8

/** One hash-chained audit append against one plain INSERT of the same row, on both dialects. */
async function measure(label: string, url: string, home: string): Promise<void> {
  const metadata = openMetadataStore(url, home)
  await metadata.migrate()
  const audit = createAuditLog(metadata, { home })
  const knex = metadata.knex
  await knex.schema.dropTableIfExists('bench_plain')
  await knex.schema.createTable('bench_plain', (t) => {
    t.increments('id')
    t.string('tenant', 64)
    t.string('action', 64)
    t.string('request_id', 64)
    t.text('detail')
  })
  const event = (i: number) => ({
    action: 'data.ask',
    outcome: 'success' as const,
    subject: 'bench',
    credentialId: 'bench',
    requestId: `req-${i}`,
    clientIp: '127.0.0.1',
    rowCount: 1,
    durationMs: 1,
    questionHash: 'a'.repeat(64),
  })
  const plain = (i: number) =>
    knex('bench_plain').insert({ tenant: 'bench', action: 'data.ask', request_id: `req-${i}`, detail: '{}' })
  try {
    let t = performance.now()
    for (let i = 0; i < N; i++) await plain(i)
    const plainSeq = (performance.now() - t) / N
    t = performance.now()
    for (let i = 0; i < N; i++) await audit.append('bench', event(i))
    const auditSeq = (performance.now() - t) / N
    const plainConc = (await pool(N, CONCURRENCY, async (i) => void (await plain(i)))) / N
    const auditConc =
      (await pool(N, CONCURRENCY, async (i) => void (await audit.append('bench', event(i))))) / N
    const verify = await audit.verify('bench')
    row(
      `${label}: append, one at a time`,
      `${fmt(auditSeq * 1000, 0)} µs/event`,
      `plain INSERT ${fmt(plainSeq * 1000, 0)} µs`,
      auditSeq / plainSeq,
    )
    row(
      `${label}: append, ${CONCURRENCY} concurrent`,
      `${fmt(auditConc * 1000, 0)} µs/event`,
      `plain INSERT ${fmt(plainConc * 1000, 0)} µs`,
      auditConc / plainConc,
    )
    row(`${label}: chain intact after ${2 * N} events`, verify.ok ? 'yes' : 'NO')
  } finally {
    await knex.schema.dropTableIfExists('bench_plain')
    await metadata.close()
  }
}

export async function run(): Promise<void> {
  const home = mkdtempSync(join(tmpdir(), 'nl2q-bench-audit-'))
  const admin = knexFactory({ client: 'mysql2', connection: `${BENCH_MYSQL}/` })
  const db = `nl2q_bench_audit_${process.pid}`
  try {
    await measure('SQLite', `sqlite:${join(home, 'hub.sqlite')}`, home)
    await admin.raw(`CREATE DATABASE \`${db}\``)
    await measure('MariaDB', `${BENCH_MYSQL}/${db}`, home)
  } finally {
    await admin.raw(`DROP DATABASE IF EXISTS \`${db}\``)
    await admin.destroy()
    rmSync(home, { recursive: true, force: true })
  }
}
