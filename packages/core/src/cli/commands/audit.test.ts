import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAuditLog } from '../../audit/index.ts'
import { type MetadataStore, openMetadataStore } from '../../metadata/store.ts'
import { runHub } from './run-hub.test-helper.ts'

describe('hub audit', () => {
  const home = mkdtempSync(join(tmpdir(), 'nl2q-cli-audit-'))
  let store: MetadataStore

  beforeAll(async () => {
    store = openMetadataStore(`sqlite:${join(home, 'hub.sqlite')}`)
    await store.migrate()
    const log = createAuditLog(store)
    for (let i = 0; i < 12; i++)
      await log.append('acme', { action: 'data.query', outcome: 'success', rowCount: i })
  })
  afterAll(async () => {
    await store.close()
    rmSync(home, { recursive: true, force: true })
  })

  it('verify exits 0 on an intact chain, checkpoint signs it, and verify then names the checkpoint', async () => {
    expect(await runHub(home, ['audit', 'verify'])).toMatchObject({
      code: 0,
      out: expect.stringMatching(/^ok: 12 events/),
    })
    const cp = await runHub(home, ['audit', 'checkpoint', '--tenant', 'acme'])
    expect(cp.out).toMatch(/^checkpoint acme seq 12 [0-9a-f]{64}/)
    expect((await runHub(home, ['audit', 'verify', '--tenant', 'acme'])).out).toContain(
      'checkpoint at seq 12',
    )
  })

  it('verify exits non-zero and prints the first bad record after tampering', async () => {
    await store.knex('audit_events').where({ tenant: 'acme', seq: 5 }).update({ row_count: 4000 })
    const { out, code } = await runHub(home, ['audit', 'verify', '--tenant', 'acme'])
    expect(code).not.toBe(0)
    expect(out).toContain('BROKEN: tenant acme, seq 5')
    expect(out).toMatch(/first bad record: .*"row_count":4000/)
  })

  it('verify exits non-zero when the tail after the checkpoint was cut', async () => {
    await store.knex('audit_events').where({ tenant: 'acme', seq: 5 }).update({ row_count: 4 })
    await store.knex('audit_events').where({ tenant: 'acme' }).andWhere('seq', '>', 10).delete()
    const { out, code } = await runHub(home, ['audit', 'verify', '--json'])
    expect(code).toBe(1)
    expect(JSON.parse(out)).toMatchObject({ ok: false, tenant: 'acme', seq: 11 })
  })
})
