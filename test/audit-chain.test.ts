import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type AuditLog, createAuditLog } from '../packages/core/src/audit/index.ts'
import { type MetadataStore, openMetadataStore } from '../packages/core/src/metadata/store.ts'
import { createTestDatabase } from './helpers/mysql.ts'

interface Backend {
  name: 'sqlite' | 'mariadb'
  url: string
  home: string
  cleanup(): Promise<void>
}

async function sqliteBackend(): Promise<Backend> {
  const home = mkdtempSync(join(tmpdir(), 'nl2q-audit-'))
  return {
    name: 'sqlite',
    url: `sqlite:${join(home, 'hub.sqlite')}`,
    home,
    cleanup: async () => rmSync(home, { recursive: true, force: true }),
  }
}

async function mariadbBackend(): Promise<Backend> {
  const db = await createTestDatabase('nl2q_audit')
  const home = mkdtempSync(join(tmpdir(), 'nl2q-audit-'))
  return {
    name: 'mariadb',
    url: db.url,
    home,
    cleanup: async () => {
      await db.drop()
      rmSync(home, { recursive: true, force: true })
    },
  }
}

const event = (i: number) => ({
  action: 'data.query',
  resource: `dataset-${i % 7} 😀 \ud800`,
  outcome: 'success' as const,
  subject: `user-${i % 3}`,
  credentialId: 'k0123456789abcdef',
  requestId: `req-${i}`,
  clientIp: '10.0.0.1',
  channel: 'api',
  rowCount: i,
  durationMs: 3,
  questionHash: 'a'.repeat(64),
  detail: { i, note: 'naïve ✓' },
})

async function appendMany(log: AuditLog, tenant: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) await log.append(tenant, event(i))
}

describe.each([
  ['sqlite', sqliteBackend, 10_000],
  ['mariadb', mariadbBackend, 10_000],
] as const)('audit chain on %s', (name, makeBackend, total) => {
  let backend: Backend
  let store: MetadataStore
  let log: AuditLog

  beforeAll(async () => {
    backend = await makeBackend()
    store = openMetadataStore(backend.url)
    await store.migrate()
    log = createAuditLog(store, { home: backend.home })
  })
  afterAll(async () => {
    await store?.close()
    await backend?.cleanup()
  })

  it(`keeps one unbroken chain when 8 writers append ${total} events concurrently`, async () => {
    // On MariaDB each writer has its own pool, like separate replicas; on SQLite one process.
    const stores =
      name === 'mariadb' ? Array.from({ length: 8 }, () => openMetadataStore(backend.url)) : [store]
    const logs = stores.map((s) => createAuditLog(s))
    const started = performance.now()
    try {
      await Promise.all(
        Array.from({ length: 8 }, async (_, w) => {
          const writer = logs[w % logs.length]!
          const seqs: number[] = []
          // each writer keeps 5 appends in flight, like concurrent requests
          for (let i = 0; i < total / 8; i += 5) {
            const batch = await Promise.all(
              [0, 1, 2, 3, 4].map((j) => writer.append('acme', { ...event(i + j), subject: `writer-${w}` })),
            )
            seqs.push(...batch.map((r) => r.seq))
          }
          return seqs
        }),
      )
    } finally {
      if (name === 'mariadb') await Promise.all(stores.map((s) => s.close()))
    }
    const elapsed = performance.now() - started
    console.log(
      `[audit] ${name}: ${total} events, 8 writers: ${((elapsed * 1000) / total).toFixed(1)} µs/event`,
    )
    const rows = (await store
      .knex('audit_events')
      .where({ tenant: 'acme' })
      .orderBy('seq')
      .select('seq')) as {
      seq: number
    }[]
    expect(rows.map((r) => Number(r.seq))).toEqual(Array.from({ length: total }, (_, i) => i + 1))
    expect(await log.verify('acme')).toEqual({ ok: true, count: total, tenants: 1, checkpointSeq: null })
  })

  it('measures the cost of one append awaited at a time', async () => {
    const n = name === 'sqlite' ? 500 : 200
    const started = performance.now()
    await appendMany(log, 'serial', n)
    const us = ((performance.now() - started) * 1000) / n
    console.log(`[audit] ${name}: sequential append ${us.toFixed(0)} µs/event`)
    expect((await log.verify('serial')).ok).toBe(true)
  })

  it('checkpoints heads that moved, periodically', async () => {
    await appendMany(log, 'timer', 3)
    const errors: unknown[] = []
    const stop = log.startCheckpoints({ intervalMs: 50, onError: (e) => errors.push(e) })
    try {
      for (let i = 0; i < 40; i++) {
        if (await store.knex('audit_checkpoints').where({ tenant: 'timer', seq: 3 }).first()) break
        await new Promise((r) => setTimeout(r, 50))
      }
    } finally {
      stop()
    }
    expect(await store.knex('audit_checkpoints').where({ tenant: 'timer', seq: 3 })).toHaveLength(1)
    expect(errors).toEqual([])
  })

  it('reports a flipped byte in event k at k', async () => {
    await appendMany(log, 'flip', 20)
    const row = await store.knex('audit_events').where({ tenant: 'flip', seq: 7 }).first('request_id')
    const flipped = Buffer.from(row.request_id as string)
    flipped[2] = flipped[2]! ^ 0x01 // 'q' → 'p'
    await store
      .knex('audit_events')
      .where({ tenant: 'flip', seq: 7 })
      .update({ request_id: flipped.toString() })
    expect(await log.verify('flip')).toMatchObject({ ok: false, tenant: 'flip', seq: 7 })
  })

  it('reports an altered event at k even when its stored hash was recomputed without the key to the next link', async () => {
    await appendMany(log, 'rehash', 10)
    await store
      .knex('audit_events')
      .where({ tenant: 'rehash', seq: 4 })
      .update({ row_count: 999, hash: 'f'.repeat(64) })
    expect(await log.verify('rehash')).toMatchObject({ ok: false, seq: 4 })
  })

  it('detects a deleted event', async () => {
    await appendMany(log, 'gap', 20)
    await store.knex('audit_events').where({ tenant: 'gap', seq: 12 }).delete()
    expect(await log.verify('gap')).toMatchObject({
      ok: false,
      seq: 12,
      reason: expect.stringMatching(/missing/),
    })
  })

  it('detects two events swapped in order', async () => {
    await appendMany(log, 'swap', 20)
    const k = store.knex
    await k('audit_events').where({ tenant: 'swap', seq: 5 }).update({ seq: -5 })
    await k('audit_events').where({ tenant: 'swap', seq: 6 }).update({ seq: 5 })
    await k('audit_events').where({ tenant: 'swap', seq: -5 }).update({ seq: 6 })
    expect(await log.verify('swap')).toMatchObject({ ok: false, seq: 5 })
  })

  it('detects a truncated tail against the head row', async () => {
    await appendMany(log, 'tail', 20)
    await store.knex('audit_events').where({ tenant: 'tail' }).andWhere('seq', '>', 15).delete()
    expect(await log.verify('tail')).toMatchObject({
      ok: false,
      seq: 16,
      reason: expect.stringMatching(/truncated/),
    })
  })

  it('detects a truncated tail against the signed checkpoint even when the head is rewound', async () => {
    await appendMany(log, 'cp', 20)
    const [cp] = await log.checkpoint('cp')
    expect(cp).toMatchObject({ tenant: 'cp', seq: 20 })
    expect(await log.verify('cp')).toMatchObject({ ok: true, count: 20, checkpointSeq: 20 })
    const k = store.knex
    const last = await k('audit_events').where({ tenant: 'cp', seq: 15 }).first('hash')
    await k('audit_events').where({ tenant: 'cp' }).andWhere('seq', '>', 15).delete()
    await k('audit_heads').where({ tenant: 'cp' }).update({ seq: 15, hash: last.hash })
    expect(await log.verify('cp')).toMatchObject({
      ok: false,
      seq: 16,
      reason: expect.stringMatching(/checkpoint/),
    })
    // Deleting the checkpoint rows too does not help: the signed file outside the database remains.
    await k('audit_checkpoints').where({ tenant: 'cp' }).delete()
    expect(await log.verify('cp')).toMatchObject({ ok: false, seq: 16 })
  })

  it('rejects a checkpoint row whose signature does not match', async () => {
    await appendMany(log, 'forged', 5)
    await log.checkpoint('forged')
    await store.knex('audit_checkpoints').where({ tenant: 'forged' }).update({ seq: 3 })
    expect(await log.verify('forged')).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/signature/),
    })
  })

  it('cannot detect a tail deleted after the last checkpoint when the head is rewound too (documented limit)', async () => {
    await appendMany(log, 'limit', 10)
    await log.checkpoint('limit')
    await appendMany(log, 'limit', 5)
    const k = store.knex
    await k('audit_events').where({ tenant: 'limit' }).andWhere('seq', '>', 12).delete()
    const last = await k('audit_events').where({ tenant: 'limit', seq: 12 }).first('hash')
    await k('audit_heads').where({ tenant: 'limit' }).update({ seq: 12, hash: last.hash })
    expect(await log.verify('limit')).toMatchObject({ ok: true, count: 12 })
  })

  it('lists a tenant’s events newest first with filters and a cursor', async () => {
    await appendMany(log, 'listed', 9)
    const first = await log.list('listed', { limit: 4, subject: 'user-0' })
    expect(first.items.map((e) => e.seq)).toEqual([7, 4, 1])
    expect(first.nextCursor).toBeNull()
    const page1 = await log.list('listed', { limit: 5 })
    expect(page1.items.map((e) => e.seq)).toEqual([9, 8, 7, 6, 5])
    const page2 = await log.list('listed', { limit: 5, cursor: page1.nextCursor })
    expect(page2.items.map((e) => e.seq)).toEqual([4, 3, 2, 1])
    expect(page2.nextCursor).toBeNull()
    expect(page1.items[0]).toMatchObject({
      tenant: 'listed',
      action: 'data.query',
      detail: { i: 8, note: 'naïve ✓' },
    })
    expect((await log.list('listed', { since: '2999-01-01T00:00:00Z' })).items).toEqual([])
  })

  it('refuses with AUDIT_UNAVAILABLE when the event cannot be written', async () => {
    const broken = openMetadataStore(backend.url)
    try {
      await broken.knex.schema.renameTable('audit_events', 'audit_events_moved')
      try {
        await expect(createAuditLog(broken).append('down', event(1))).rejects.toMatchObject({
          code: 'AUDIT_UNAVAILABLE',
          status: 503,
        })
      } finally {
        await broken.knex.schema.renameTable('audit_events_moved', 'audit_events')
      }
    } finally {
      await broken.close()
    }
  })
})
