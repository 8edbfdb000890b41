import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openDataSource } from '../db/index.ts'
import { type MetadataStore, openMetadataStore } from '../metadata/store.ts'
import { createSecretBox, generateKey, keyRingOf } from '../secrets/index.ts'
import { createTenantRegistry, type TenantRegistry } from './registry.ts'

let metadata: MetadataStore
let tenants: TenantRegistry
const home = mkdtempSync(join(tmpdir(), 'nl2q-tenants-'))

beforeAll(async () => {
  metadata = openMetadataStore(`sqlite:${join(home, 'hub.sqlite')}`)
  await metadata.migrate()
  tenants = createTenantRegistry({
    metadata,
    baseDir: home,
    secrets: createSecretBox(keyRingOf(generateKey(), [], 'test')),
  })
})
afterAll(async () => {
  await tenants.close()
  await metadata.close()
})

describe('tenant registry', () => {
  it('never shows the database URL in what it lists', async () => {
    await tenants.add({
      id: 'north',
      dbUrl: 'mysql://app:hunter2@db.internal:3306/north',
      model: null,
      check: false,
    })
    const listed = await tenants.list()
    expect(listed).toEqual([expect.objectContaining({ id: 'north', dialect: 'mysql', model: null })])
    expect(JSON.stringify(listed)).not.toContain('hunter2')
    expect(await tenants.dbUrl('north')).toContain('hunter2')
    const stored = (await metadata.knex('tenants').where({ id: 'north' }).first('db_url')) as {
      db_url: string
    }
    expect(stored.db_url).toMatch(/^nl2q:v1:[0-9a-f]{16}:/)
    expect(stored.db_url).not.toContain('hunter2')
  })

  it('rejects bad tenant ids and duplicates', async () => {
    await expect(tenants.add({ id: 'Bad_ID', dbUrl: 'sqlite:x.sqlite' })).rejects.toThrow(/tenant id/)
    await expect(tenants.add({ id: 'north', dbUrl: 'sqlite:x.sqlite' })).rejects.toMatchObject({
      code: 'CONFLICT',
    })
  })

  it('merges per-role rate limits into the settings and refuses unknown roles', async () => {
    await tenants.updateSettings('north', { rateLimits: { analyst: 200 } })
    const merged = await tenants.updateSettings('north', { rateLimits: { default: 50 } })
    expect(merged.rateLimits).toEqual({ analyst: 200, default: 50 })
    expect(await tenants.settings('north')).toMatchObject({ rateLimits: { analyst: 200, default: 50 } })
    await expect(
      tenants.updateSettings('north', { rateLimits: { root: 1 } as unknown as { analyst: number } }),
    ).rejects.toThrow()
  })

  it('answers NOT_FOUND for an unknown tenant', async () => {
    await expect(tenants.runtime('nobody')).rejects.toMatchObject({ code: 'NOT_FOUND' })
  })

  it('logs a warning naming the datasets its row policy cannot reach when a tenant opens', async () => {
    const loose = openDataSource(`sqlite:${join(home, 'loose.sqlite')}`)
    await loose.knex.raw('CREATE TABLE territories (territory_id TEXT PRIMARY KEY)')
    await loose.knex.raw('CREATE TABLE hcps (hcp_id TEXT PRIMARY KEY, territory_id TEXT)')
    await loose.knex.destroy()
    writeFileSync(
      join(home, 'loose.yaml'),
      'rowPolicies:\n  - { dataset: territories, column: territory_id, in: { attribute: territories } }\n',
    )
    const lines: string[] = []
    const logger = pino({ level: 'warn' }, { write: (l: string) => lines.push(l) })
    const logged = createTenantRegistry({
      metadata,
      baseDir: home,
      logger,
      secrets: createSecretBox(keyRingOf(generateKey(), [], 'test')),
    })
    try {
      await logged.add({ id: 'loose', dbUrl: 'sqlite:loose.sqlite', model: join(home, 'loose.yaml') })
      await logged.runtime('loose')
      const warn = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.level === 40)
      expect(warn).toMatchObject({ tenant: 'loose', datasets: ['hcps'] })
    } finally {
      await logged.close()
    }
  })
})

describe('tenant registry invalidation hook', () => {
  it('announces every local change (refresh, model, settings) and marks a peer’s as not to re-announce', async () => {
    const seen: [string, string][] = []
    const hooked = createTenantRegistry({
      metadata,
      baseDir: home,
      secrets: createSecretBox(keyRingOf(generateKey(), [], 'test')),
      onInvalidate: (id, origin) => {
        seen.push([id, origin])
      },
    })
    await hooked.add({ id: 'hooked', dbUrl: 'sqlite:hooked.sqlite', check: false })
    await hooked.setModel('hooked', null)
    await hooked.updateSettings('hooked', { rateLimits: { viewer: 7 } })
    await hooked.invalidate('hooked')
    await hooked.invalidate('hooked', 'peer')
    expect(seen).toEqual([
      ['hooked', 'local'],
      ['hooked', 'local'],
      ['hooked', 'local'],
      ['hooked', 'peer'],
    ])
    await hooked.close()
  })
})
