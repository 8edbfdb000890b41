import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openDataSource } from '@nl2q/core'
import { afterAll, describe, expect, it } from 'vitest'
import { DEFAULT_MAPPING } from './mapping.ts'
import { WriteTarget } from './target.ts'

const dir = mkdtempSync(join(tmpdir(), 'nl2q-crm-target-'))
const url = `sqlite:${join(dir, 'target.sqlite')}`
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('the CRM write target', () => {
  const m = DEFAULT_MAPPING.objects.Territory2!
  const row = (id: string, name: string | null) => ({
    territory_id: id,
    territory_name: name,
    region: 'West',
    district: 'Mountain',
  })

  it('reports a row the database refuses and writes its neighbours, but stops when the database itself fails', async () => {
    const setup = openDataSource(url)
    await setup.knex.raw(
      'CREATE TABLE territories (territory_id TEXT PRIMARY KEY, territory_name TEXT NOT NULL, region TEXT, district TEXT)',
    )
    const target = WriteTarget.open(url)
    try {
      // one bad row (NOT NULL): reported, the others written
      const r = await target.write(m, [row('T1', 'Denver'), row('T2', null), row('T3', 'Boise')])
      expect(r.written).toBe(2)
      expect(r.failed.map((f) => f.key)).toEqual(['T2'])
      // another writer holds the database: every row would "fail" if replayed; the write throws instead,
      // so the sync's watermark never moves past rows that were not written
      const holder = await setup.knex.transaction()
      await holder.raw("INSERT INTO territories VALUES ('T9', 'Held', 'West', 'Mountain')")
      try {
        await expect(target.write(m, [row('T4', 'Reno')])).rejects.toMatchObject({
          code: 'SERVICE_UNAVAILABLE',
        })
      } finally {
        await holder.rollback()
      }
      expect((await setup.knex('territories').pluck('territory_id')).sort()).toEqual(['T1', 'T3'])
    } finally {
      await target.close()
      await setup.knex.destroy()
    }
  }, 60_000)
})
