import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import type { SchemaInfo } from '../../db/index.ts'
import { col, table } from '../testing/schema-builders.ts'
import { exportOverridesYaml } from './export-overrides.ts'
import { inferModel } from './infer.ts'
import { parseOverrides } from './overrides.ts'
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
