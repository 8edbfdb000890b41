import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { introspect, openDataSource, type SchemaInfo } from '../../db/index.ts'
import { createPharmaSchema } from '../../sql-guard/testing/pharma-fixture.ts'
import { col, table } from '../testing/schema-builders.ts'
import { exportOverridesYaml } from './export-overrides.ts'
import { inferModel } from './infer.ts'
import { loadOverrides, parseOverrides } from './overrides.ts'
import { withInferredKeys } from './relationships.ts'

const id = (name = 'id') => col(name, 'integer', { primaryKey: true, unique: true, nullable: false })

const schema: SchemaInfo = {
  dialect: 'sqlite',
  tables: [
    table('accounts', [id(), col('name', 'string'), col('plan_tier', 'string'), col('created_at', 'date')]),
    table('invoices', [
      id(),
      col('account_id', 'integer'),
      col('totAmt', 'decimal'),
      col('issued_on', 'date'),
    ]),
  ],
}

describe('hub model export', () => {
  it('writes an overrides file that loads back into the same model', async () => {
    const withKeys = await withInferredKeys(schema)
    const model = inferModel(withKeys)
    const text = exportOverridesYaml(model)
    expect(text).toMatch(/^# NL2Q model overrides/)
    const overrides = parseOverrides(parse(text), 'model.yaml')
    expect(overrides.relationships).toEqual([{ from: 'invoices.account_id', to: 'accounts.id' }])
    expect(overrides.datasets.invoices?.fields?.totAmt).toMatchObject({
      label: 'Total amount',
      kind: 'measure',
      aggregation: 'sum',
      unit: 'currency',
    })
    // loaded over the bare schema (no inference), the listed relationship comes back as a declared one
    const again = inferModel(schema, overrides)
    expect(again.joins).toEqual([
      {
        from: { dataset: 'invoices', columns: ['account_id'] },
        to: { dataset: 'accounts', columns: ['id'] },
      },
    ])
    const strip = (m: typeof model) =>
      m.datasets.map((d) => ({ ...d, fields: d.fields.map((f) => ({ ...f })) }))
    expect(strip(again)).toEqual(strip(model))
  })

  it('lets an edited file rename vocabulary and reject inferred relationships', async () => {
    const model = inferModel(await withInferredKeys(schema))
    const overrides = parseOverrides(parse(exportOverridesYaml(model)))
    overrides.relationships = []
    overrides.inferRelationships = false
    const inv = overrides.datasets.invoices
    if (inv?.fields?.totAmt) inv.fields.totAmt.synonyms = ['billings']
    const edited = inferModel(await withInferredKeys(schema), overrides)
    expect(edited.joins).toEqual([])
    expect(
      edited.datasets.find((d) => d.name === 'invoices')?.fields.find((f) => f.name === 'totAmt')?.synonyms,
    ).toContain('billings')
  })

  it('names a relationship to a column that does not exist', () => {
    const overrides = parseOverrides({ relationships: [{ from: 'invoices.nope', to: 'accounts.id' }] })
    expect(() => inferModel(schema, overrides)).toThrow(/relationships\.0\.from: no column 'invoices\.nope'/)
  })
})

describe('hub model export of a tenant with the pharma overrides', () => {
  it('keeps role restrictions, shared reference data, verbs, markets and row policies', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nl2q-export-'))
    const ds = openDataSource(`sqlite:${join(dir, 'pharma.sqlite')}`)
    try {
      await createPharmaSchema(ds.knex)
      const schema = await introspect(ds)
      const overrides = await loadOverrides('pharma')
      const hcps = overrides.datasets.hcps ?? {}
      overrides.datasets.hcps = {
        ...hcps,
        fields: { ...hcps.fields, npi: { ...hcps.fields?.npi, roles: ['admin'] } },
      }
      const model = inferModel(schema, overrides)
      expect(
        model.datasets.find((d) => d.name === 'hcps')?.fields.find((f) => f.name === 'npi')?.roles,
      ).toEqual(['admin'])
      const again = inferModel(schema, parseOverrides(parse(exportOverridesYaml(model))))
      expect(again.rowPolicies).toEqual(model.rowPolicies)
      expect(again.joins).toEqual(model.joins)
      expect(again.defaultMeasure).toEqual(model.defaultMeasure)
      expect(again.datasets).toEqual(model.datasets)
    } finally {
      await ds.knex.destroy()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
