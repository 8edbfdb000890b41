import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { connectorState } from '../../connectors/state-store.ts'
import { createTestDatabase } from '../../testing/test-databases.ts'
import { openMetadataStore } from '../store.ts'

/** The table exactly as the Power BI connector created it before contract v2. */
async function legacyRows(url: string) {
  const store = openMetadataStore(url)
  try {
    await store.knex.schema.createTable('nl2q_saved_questions', (t) => {
      t.string('id', 36).primary()
      t.string('tenant', 64).notNullable()
      t.string('name', 64).notNullable()
      t.text('question').notNullable()
      t.string('as_of', 10).nullable()
      t.text('columns_json').notNullable()
      t.string('created_by', 255).notNullable()
      t.string('created_at', 32).notNullable()
      t.unique(['tenant', 'name'])
    })
    await store.knex('nl2q_saved_questions').insert({
      id: '00000000-0000-4000-8000-000000000001',
      tenant: 'acme',
      name: 'trx_by_region',
      question: 'total trx by region',
      as_of: '2024-12-31',
      columns_json: JSON.stringify([{ name: 'region', source: 'region', type: 'string', label: 'Region' }]),
      created_by: 'analyst@acme',
      created_at: '2025-01-02T03:04:05.000Z',
    })
    await store.migrate()
    expect(await connectorState(store.knex, 'odata', 'acme').table('saved_questions').list()).toEqual([
      {
        id: 'trx_by_region',
        value: {
          id: '00000000-0000-4000-8000-000000000001',
          name: 'trx_by_region',
          question: 'total trx by region',
          asOf: '2024-12-31',
          columns: [{ name: 'region', source: 'region', type: 'string', label: 'Region' }],
          createdBy: 'analyst@acme',
          createdAt: '2025-01-02T03:04:05.000Z',
        },
      },
    ])
    expect(await connectorState(store.knex, 'odata', 'globex').table('saved_questions').list()).toEqual([])
  } finally {
    await store.close()
  }
}

describe('migration 006: saved questions move into the Power BI connector state', () => {
  it('keeps the saved questions of a store upgraded from before contract v2 (SQLite)', async () => {
    await legacyRows(`sqlite:${join(mkdtempSync(join(tmpdir(), 'nl2q-006-')), 'hub.sqlite')}`)
  })

  it('keeps the saved questions of a store upgraded from before contract v2 (MariaDB)', async () => {
    const db = await createTestDatabase('nl2q_006')
    try {
      await legacyRows(db.url)
    } finally {
      await db.drop()
    }
  })
})
