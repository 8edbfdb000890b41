import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestDatabase } from '../../../../test/helpers/mysql.ts'
import { migrations } from './migrations/index.ts'
import { openMetadataStore } from './store.ts'

async function checkMigrations(url: string) {
  const store = openMetadataStore(url)
  try {
    const applied = await store.migrate()
    expect(applied).toEqual(migrations.map((m) => m.name))
    expect(await store.migrate()).toEqual([])
    expect(await store.knex.schema.hasTable('tenants')).toBe(true)
  } finally {
    await store.close()
  }
  // a second process (here: a second store) sees everything applied and applies nothing
  const again = openMetadataStore(url)
  try {
    expect(await again.migrate()).toEqual([])
  } finally {
    await again.close()
  }
}

describe('metadata store', () => {
  it('applies every migration once on SQLite', async () => {
    await checkMigrations(`sqlite:${join(mkdtempSync(join(tmpdir(), 'nl2q-meta-')), 'hub.sqlite')}`)
  })

  describe('on MariaDB', () => {
    let db: Awaited<ReturnType<typeof createTestDatabase>>
    beforeAll(async () => {
      db = await createTestDatabase()
    })
    afterAll(async () => db?.drop())
    it('applies every migration once', async () => {
      await checkMigrations(db.url)
    })
  })
})
