import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { ColumnInfo, SchemaInfo } from '../../db/index.ts'
import { HubError } from '../../errors.ts'
import { col, table } from '../testing/schema-builders.ts'
import { inferModel } from './infer.ts'
import { loadOverrides, parseOverrides } from './overrides.ts'

const pk = (name: string, type: ColumnInfo['type'] = 'string') =>
  col(name, type, { primaryKey: true, unique: true })
const fk = (column: string, refTable: string, refColumn: string) => ({
  columns: [column],
  refTable,
  refColumns: [refColumn],
})

/** The pharma demo schema (test/fixtures/datasets/pharma.md) as introspection reports it. */
const pharma: SchemaInfo = {
  dialect: 'sqlite',
  tables: [
    table('territories', [
      pk('territory_id'),
      col('territory_name', 'string'),
      col('region', 'string'),
      col('district', 'string'),
    ]),
    table(
      'reps',
      [
        pk('rep_id'),
        col('rep_name', 'string'),
        col('territory_id', 'string'),
        col('hire_date', 'date'),
        col('email', 'string'),
      ],
      [fk('territory_id', 'territories', 'territory_id')],
    ),
    table(
      'hcps',
      [
        pk('hcp_id'),
        col('npi', 'string', { unique: true }),
        col('first_name', 'string'),
        col('last_name', 'string'),
        col('specialty', 'string'),
        col('city', 'string'),
        col('state', 'string'),
        col('territory_id', 'string'),
        col('segment', 'string'),
        col('crm_account_id', 'string', { unique: true }),
      ],
      [fk('territory_id', 'territories', 'territory_id')],
    ),
    table('products', [
      pk('product_id'),
      col('product_name', 'string', { unique: true }),
      col('manufacturer', 'string'),
      col('therapeutic_area', 'string'),
      col('is_company_product', 'boolean'),
      col('launch_date', 'date'),
      col('list_price', 'decimal'),
    ]),
    table(
      'prescriptions',
      [
        pk('rx_id', 'integer'),
        col('hcp_id', 'string'),
        col('product_id', 'string'),
        col('week_ending', 'date'),
        col('payer_type', 'string'),
        col('trx', 'integer'),
        col('nrx', 'integer'),
        col('quantity', 'integer'),
      ],
      [fk('product_id', 'products', 'product_id'), fk('hcp_id', 'hcps', 'hcp_id')],
    ),
    table(
      'calls',
      [
        pk('call_id'),
        col('hcp_id', 'string'),
        col('rep_id', 'string'),
        col('product_id', 'string'),
        col('call_date', 'date'),
        col('channel', 'string'),
        col('status', 'string'),
        col('duration_minutes', 'integer'),
      ],
      [
        fk('product_id', 'products', 'product_id'),
        fk('rep_id', 'reps', 'rep_id'),
        fk('hcp_id', 'hcps', 'hcp_id'),
      ],
    ),
  ],
}

describe('model inference', () => {
  const model = inferModel(pharma)
  const ds = (name: string) => model.datasets.find((d) => d.name === name)
  const field = (d: string, f: string) => ds(d)?.fields.find((x) => x.name === f)

  it('turns tables into datasets and numeric non-key columns into SUM measures', () => {
    expect(model.datasets).toHaveLength(6)
    expect(field('prescriptions', 'trx')).toMatchObject({
      kind: 'measure',
      aggregation: 'sum',
      type: 'integer',
    })
    expect(field('prescriptions', 'rx_id')?.kind).toBe('key')
    expect(field('prescriptions', 'hcp_id')).toMatchObject({
      kind: 'key',
      references: { dataset: 'hcps', field: 'hcp_id' },
    })
    expect(field('hcps', 'specialty')).toMatchObject({ kind: 'dimension', indexed: true })
    expect(field('products', 'is_company_product')).toMatchObject({
      kind: 'dimension',
      type: 'boolean',
      label: 'Company product',
    })
    expect(field('calls', 'call_date')?.kind).toBe('time')
  })

  it('orders join paths by the position of the FK column, whatever order the driver listed them in', () => {
    expect(model.joins.filter((j) => j.from.dataset === 'calls').map((j) => j.to.dataset)).toEqual([
      'hcps',
      'reps',
      'products',
    ])
  })

  it('labels entities and picks their name columns and default date', () => {
    expect(ds('hcps')).toMatchObject({
      label: 'HCP',
      pluralLabel: 'HCPs',
      labelColumns: ['first_name', 'last_name'],
    })
    expect(ds('territories')).toMatchObject({
      label: 'Territory',
      pluralLabel: 'Territories',
      labelColumns: ['territory_name'],
    })
    expect(ds('products')?.labelColumns).toEqual(['product_name'])
    expect(ds('prescriptions')?.defaultTimeDimension).toBe('week_ending')
    expect(field('prescriptions', 'week_ending')?.grain).toBe('week')
  })

  it('splits camelCase and prefixed names and keeps codes out of the measures', () => {
    const m = inferModel({
      dialect: 'mysql',
      tables: [
        table('tbl_OrderLines', [
          pk('lineId', 'integer'),
          col('unitPrice', 'decimal'),
          col('zip_code', 'integer'),
          col('fiscal_year', 'integer'),
          col('createdAt', 'datetime'),
        ]),
      ],
    })
    const d = m.datasets[0]
    expect(d?.label).toBe('Order line')
    expect(d?.fields.find((f) => f.name === 'unitPrice')).toMatchObject({
      label: 'Unit price',
      kind: 'measure',
    })
    expect(d?.fields.find((f) => f.name === 'zip_code')?.kind).toBe('dimension')
    expect(d?.fields.find((f) => f.name === 'fiscal_year')?.kind).toBe('dimension')
    expect(d?.defaultTimeDimension).toBe('createdAt')
  })
})

describe('model overrides', () => {
  it('applies the bundled pharma vocabulary, derived measures and row policy to the demo schema', async () => {
    const model = inferModel(pharma, await loadOverrides('pharma'))
    const trx = model.datasets.find((d) => d.name === 'prescriptions')?.fields.find((f) => f.name === 'trx')
    expect(trx?.label).toBe('TRx')
    expect(trx?.synonyms).toContain('scripts')
    expect(model.datasets.find((d) => d.name === 'hcps')?.synonyms).toEqual(
      expect.arrayContaining(['prescriber', 'doctor', 'physician']),
    )
    expect(
      model.datasets.find((d) => d.name === 'prescriptions')?.fields.find((f) => f.name === 'nrx_share'),
    ).toMatchObject({
      derived: { op: '/', left: 'nrx', right: 'trx', level: 'aggregate' },
    })
    expect(model.rowPolicies).toEqual([
      { roles: ['viewer'], dataset: 'territories', column: 'territory_id', in: { attribute: 'territories' } },
      {
        roles: ['analyst', 'integration'],
        dataset: 'territories',
        column: 'territory_id',
        in: { attribute: 'territories', required: false },
      },
    ])
    expect(model.defaultMeasure).toBe('prescriptions.trx')
  })

  it('names the bad path when the file is malformed', () => {
    const err = (() => {
      try {
        parseOverrides(
          { datasets: { hcps: { fields: { specialty: { aggregation: 'median' } } } } },
          'bad.yaml',
        )
      } catch (e) {
        return e
      }
    })()
    expect(err).toBeInstanceOf(HubError)
    expect((err as HubError).code).toBe('CONFIG_INVALID')
    expect((err as HubError).message).toContain('datasets.hcps.fields.specialty.aggregation')
  })

  it('names the bad path when the file refers to columns the database does not have', () => {
    const overrides = parseOverrides({
      datasets: { hcps: { fields: { pasword: { hidden: true } }, derived: { x: { expression: 'a - b' } } } },
      rowPolicies: [{ dataset: 'terrritories', column: 'territory_id', in: { attribute: 'territories' } }],
    })
    expect(() => inferModel(pharma, overrides)).toThrow(
      /datasets\.hcps\.fields\.pasword.*rowPolicies\.0\.dataset|datasets\.hcps\.fields\.pasword/,
    )
    try {
      inferModel(pharma, overrides)
    } catch (e) {
      const problems = (e as HubError).details?.problems as string[]
      expect(problems).toEqual(
        expect.arrayContaining([
          expect.stringContaining('datasets.hcps.fields.pasword'),
          expect.stringContaining('rowPolicies.0.dataset'),
          expect.stringContaining('datasets.hcps.derived.x.expression'),
        ]),
      )
    }
  })

  it('loads JSON files by path as well as bundled names', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nl2q-ov-'))
    try {
      const path = join(dir, 'm.json')
      writeFileSync(path, JSON.stringify({ name: 'mine', datasets: { reps: { synonyms: ['seller'] } } }))
      const model = inferModel(pharma, await loadOverrides(path))
      expect(model.name).toBe('mine')
      expect(model.datasets.find((d) => d.name === 'reps')?.synonyms).toContain('seller')
      await expect(loadOverrides(join(dir, 'missing.yaml'))).rejects.toMatchObject({ code: 'CONFIG_INVALID' })
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
