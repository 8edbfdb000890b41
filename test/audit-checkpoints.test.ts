import { createHash, createHmac } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { createAuditLog } from '../packages/core/src/audit/index.ts'
import { createApiKey } from '../packages/core/src/auth/index.ts'
import { openMetadataStore } from '../packages/core/src/metadata/store.ts'
import { runHub } from './helpers/cli.ts'
import { createTestHub } from './helpers/hub.ts'

/** Poll `check` every 50 ms, at most `tries` times; resolves with its last value. */
async function eventually<T>(check: () => Promise<T>, ok: (v: T) => boolean, tries = 100): Promise<T> {
  let value = await check()
  for (let i = 0; i < tries && !ok(value); i++) {
    await new Promise((r) => setTimeout(r, 50))
    value = await check()
  }
  return value
}

describe('audit checkpoints every N events', () => {
  const home = mkdtempSync(join(tmpdir(), 'nl2q-audit-cp-'))
  afterAll(() => rmSync(home, { recursive: true, force: true }))

  it('signs a checkpoint once N events are appended without waiting for the interval, and verify then detects a cut tail', async () => {
    const store = openMetadataStore(`sqlite:${join(home, 'hub.sqlite')}`, home)
    await store.migrate()
    const log = createAuditLog(store, { home })
    // An interval far beyond the test: only the event count can trigger a checkpoint.
    const stop = log.startCheckpoints({ intervalMs: 3_600_000, everyEvents: 10 })
    try {
      for (let i = 0; i < 25; i++)
        await log.append('acme', { action: 'data.query', outcome: 'success', rowCount: i })
      const latest = await eventually(
        async () =>
          Number(
            (await store.knex('audit_checkpoints').where({ tenant: 'acme' }).max({ m: 'seq' }))[0]?.m ?? 0,
          ),
        (seq) => seq >= 20,
      )
      expect(latest).toBeGreaterThanOrEqual(20)
      // A consistent rewrite of the tail below that checkpoint: events cut, head row rewound.
      const e15 = (await store.knex('audit_events').where({ tenant: 'acme', seq: 15 }).first('hash')) as {
        hash: string
      }
      await store.knex('audit_events').where({ tenant: 'acme' }).andWhere('seq', '>', 15).delete()
      await store.knex('audit_heads').where({ tenant: 'acme' }).update({ seq: 15, hash: e15.hash })
    } finally {
      stop()
      await store.close()
    }
    const verified = await runHub(['audit', 'verify', '--tenant', 'acme', '--json'], { HUB_HOME: home })
    expect(verified.code).toBe(1)
    expect(JSON.parse(verified.stdout)).toMatchObject({
      ok: false,
      seq: 16,
      reason: expect.stringMatching(/^tail truncated: a signed checkpoint covers seq (2\d)/),
    })
  })
})

describe('GET /v1/audit/head', () => {
  it("returns the tenant's latest signed head, whose HMAC verifies with the checkpoint key; admins only", async () => {
    const hub = await createTestHub({ env: { HUB_AUDIT_CHECKPOINT_EVENTS: '5' } })
    try {
      const admin = hub.keys.acme!
      for (let i = 0; i < 6; i++)
        expect((await hub.call('/v1/audit?limit=1', { key: admin })).status).toBe(200)
      const res = await eventually(
        () => hub.call('/v1/audit/head', { key: admin }),
        (r) => r.status === 200,
      )
      expect(res.status).toBe(200)
      const head = (await res.json()) as Record<string, string | number>
      expect(head).toMatchObject({ tenant: 'acme', algorithm: 'HMAC-SHA256' })
      expect(head.seq).toBeGreaterThanOrEqual(5)

      const key = Buffer.from(readFileSync(join(hub.home, 'audit-checkpoint.key'), 'utf8').trim(), 'hex')
      expect(createHmac('sha256', key).update(String(head.signed)).digest('hex')).toBe(head.signature)
      expect(head.keyId).toBe(createHash('sha256').update(key).digest('hex').slice(0, 16))
      expect(JSON.parse(String(head.signed))).toMatchObject({
        tenant: 'acme',
        seq: head.seq,
        hash: head.hash,
      })
      const event = await hub.services.metadata
        .knex('audit_events')
        .where({ tenant: 'acme', seq: head.seq })
        .first('hash')
      expect(event.hash).toBe(head.hash)

      const viewer = await createApiKey(hub.services.metadata, { tenant: 'acme', role: 'viewer' })
      expect((await hub.call('/v1/audit/head', { key: viewer.secret })).status).toBe(403)
      // Another tenant's admin sees only their own chain (none signed yet).
      const globex = await hub.call('/v1/audit/head', { key: hub.keys.globex! })
      expect(globex.status === 404 || ((await globex.json()) as { tenant: string }).tenant === 'globex').toBe(
        true,
      )
    } finally {
      await hub.close()
    }
  })
})
