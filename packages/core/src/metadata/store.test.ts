import { chmodSync, mkdirSync, mkdtempSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestDatabase } from '../testing/test-databases.ts'
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

  it('creates HUB_HOME 0700 and the SQLite file, its WAL and SHM 0600, and tightens older files', async () => {
    const home = join(mkdtempSync(join(tmpdir(), 'nl2q-meta-')), 'home')
    const modeOf = (f: string) => statSync(f).mode & 0o777
    const file = join(home, 'hub.sqlite')
    const store = openMetadataStore(`sqlite:${file}`, home)
    try {
      await store.migrate()
      await store.knex('tenants').insert({ id: 'acme', db_url: 'x', created_at: 'now' })
      expect(modeOf(home)).toBe(0o700)
      expect([modeOf(file), modeOf(`${file}-wal`), modeOf(`${file}-shm`)]).toEqual([0o600, 0o600, 0o600])
    } finally {
      await store.close()
    }
    // A store file left readable by an older hub is tightened at the next open.
    const older = join(mkdtempSync(join(tmpdir(), 'nl2q-meta-')), 'old')
    mkdirSync(older, { mode: 0o755 })
    writeFileSync(join(older, 'hub.sqlite'), '', { mode: 0o644 })
    chmodSync(join(older, 'hub.sqlite'), 0o644)
    const reopened = openMetadataStore(`sqlite:${join(older, 'hub.sqlite')}`, older)
    await reopened.close()
    expect([modeOf(older), modeOf(join(older, 'hub.sqlite'))]).toEqual([0o700, 0o600])
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
