import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { openDataSource } from '../../db/index.ts'
import { type MetadataStore, openMetadataStore } from '../../metadata/store.ts'
import { createPharmaSchema } from '../../sql-guard/testing/pharma-fixture.ts'
import { runHub } from './run-hub.test-helper.ts'

describe('hub tenant add / check: row-policy reach', () => {
  const home = mkdtempSync(join(tmpdir(), 'nl2q-cli-tenant-'))
  let store: MetadataStore

  beforeAll(async () => {
    store = openMetadataStore(`sqlite:${join(home, 'hub.sqlite')}`)
    await store.migrate()
    const pharma = openDataSource(`sqlite:${join(home, 'pharma.sqlite')}`)
    await createPharmaSchema(pharma.knex)
    await pharma.knex.destroy()
    // the same kind of data without foreign keys: the policy on territories cannot reach hcps
    const loose = openDataSource(`sqlite:${join(home, 'loose.sqlite')}`)
    await loose.knex.raw('CREATE TABLE territories (territory_id TEXT PRIMARY KEY, region TEXT)')
    await loose.knex.raw('CREATE TABLE hcps (hcp_id TEXT PRIMARY KEY, territory_id TEXT, specialty TEXT)')
    await loose.knex.destroy()
    writeFileSync(
      join(home, 'loose.yaml'),
      'inferRelationships: false\nrowPolicies:\n  - { dataset: territories, column: territory_id, in: { attribute: territories } }\n',
    )
    writeFileSync(
      join(home, 'inferred.yaml'),
      'rowPolicies:\n  - { dataset: territories, column: territory_id, in: { attribute: territories } }\n',
    )
  })
  afterAll(async () => {
    await store.close()
    rmSync(home, { recursive: true, force: true })
  })

  it('prints each dataset with the rules that reach it and the join path', async () => {
    const added = await runHub(home, [
      'tenant',
      'add',
      'pharma',
      '--db',
      `sqlite:${join(home, 'pharma.sqlite')}`,
      '--model',
      'pharma',
    ])
    expect(added.code).toBe(0)
    expect(added.out).toMatch(/rule 1: territories\.territory_id in attribute 'territories' \(roles viewer\)/)
    expect(added.out).toMatch(
      /prescriptions\s+rules 1, 2 via prescriptions → hcps → territories \(territory_id\)/,
    )
    expect(added.out).toMatch(/products\s+unrestricted/)
    expect(added.out).not.toContain('WARNING')
    const checked = await runHub(home, ['tenant', 'check', 'pharma'])
    expect(checked.code).toBe(0)
    expect(checked.out).toMatch(/calls\s+rules 1, 2 via calls → hcps → territories/)
  })

  it('warns loudly on add, and check exits 1, when a dataset no rule can reach exists', async () => {
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true)
    try {
      const added = await runHub(home, [
        'tenant',
        'add',
        'loose',
        '--db',
        `sqlite:${join(home, 'loose.sqlite')}`,
        '--model',
        join(home, 'loose.yaml'),
      ])
      expect(added.code).toBe(0)
      expect(added.out).toMatch(/hcps\s+NOT REACHED by any rule/)
      expect(added.out).toMatch(/WARNING: 1 dataset\(s\) no row policy can reach: hcps/)
      expect(stderr.mock.calls.map((c) => String(c[0])).join('')).toContain('WARNING')
      const checked = await runHub(home, ['tenant', 'check', 'loose'])
      expect(checked.code).toBe(1)
      expect(checked.out).toMatch(/territories\s+rule 1 via territories \(territory_id\)/)
    } finally {
      stderr.mockRestore()
    }
  })

  it('lists an undeclared key as inferred, keeps the rule from travelling along it, and lets the overrides confirm it', async () => {
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true)
    try {
      const added = await runHub(home, [
        'tenant',
        'add',
        'inferred',
        '--db',
        `sqlite:${join(home, 'loose.sqlite')}`,
        '--model',
        join(home, 'inferred.yaml'),
      ])
      expect(added.code).toBe(0)
      const checked = await runHub(home, ['tenant', 'check', 'inferred'])
      expect(checked.code).toBe(1)
      expect(checked.out).toMatch(/hcps\.territory_id → territories\.territory_id {2}\(inferred/)
      expect(checked.out).toMatch(/hcps\s+NOT REACHED by any rule/)
      // confirmed in the overrides, the relationship is declared and carries the rule
      writeFileSync(
        join(home, 'confirmed.yaml'),
        `relationships:\n  - { from: hcps.territory_id, to: territories.territory_id }\n${readFileSync(join(home, 'inferred.yaml'), 'utf8')}`,
      )
      const confirmed = await runHub(home, ['tenant', 'set-model', 'inferred', join(home, 'confirmed.yaml')])
      expect(confirmed.code).toBe(0)
      const again = await runHub(home, ['tenant', 'check', 'inferred'])
      expect(again.code).toBe(0)
      expect(again.out).toMatch(/hcps\.territory_id → territories\.territory_id\n/)
      expect(again.out).toMatch(/hcps\s+rule 1 via hcps → territories \(territory_id\)/)
    } finally {
      stderr.mockRestore()
    }
  })
})
