import knexFactory from 'knex'
import { describe, expect, it } from 'vitest'
import type { SchemaInfo } from '../../db/index.ts'
import { localPrincipal } from '../../principal.ts'
import { inferModel } from '../model/infer.ts'
import { parseOverrides } from '../model/overrides.ts'
import { type QueryPlan, QueryPlanSchema } from '../plan.ts'
import { resolveRowScopes } from '../policy.ts'
import { col, table } from '../testing/schema-builders.ts'
import { compilePlan } from './compile.ts'

const schema: SchemaInfo = {
  dialect: 'sqlite',
  tables: [
    table('regions', [col('region_id', 'string', { primaryKey: true }), col('region_name', 'string')]),
    table(
      'stores',
      [
        col('store_id', 'string', { primaryKey: true }),
        col('store_name', 'string'),
        col('region_id', 'string'),
      ],
      [{ columns: ['region_id'], refTable: 'regions', refColumns: ['region_id'] }],
    ),
    table(
      'sales',
      [
        col('sale_id', 'integer', { primaryKey: true }),
        col('store_id', 'string'),
        col('sold_on', 'date'),
        col('amount', 'decimal'),
        col('units', 'integer'),
      ],
      [{ columns: ['store_id'], refTable: 'stores', refColumns: ['store_id'] }],
    ),
  ],
}
const model = inferModel(
  schema,
  parseOverrides({
    rowPolicies: [{ dataset: 'regions', column: 'region_id', in: { attribute: 'regions' } }],
  }),
)
const builders = {
  sqlite: knexFactory({ client: 'better-sqlite3', useNullAsDefault: true }),
  mysql: knexFactory({ client: 'mysql2' }),
}
const admin = localPrincipal('t')
const compile = (p: Partial<QueryPlan>, dialect: 'sqlite' | 'mysql' = 'sqlite', principal = admin) =>
  compilePlan(
    model,
    QueryPlanSchema.parse({ dataset: 'sales', ...p }),
    builders[dialect],
    dialect,
    resolveRowScopes(model, principal),
  )

describe('plan compiler', () => {
  it('binds every value and never writes user text into the SQL', () => {
    const evil = "x'); DROP TABLE sales; --"
    const c = compile({
      measures: [{ field: 'sales.amount', aggregation: 'sum', as: 'amount' }],
      filter: { op: 'in', field: 'stores.store_name', values: [evil, 'B'] },
    })
    expect(c.sql).not.toContain('DROP')
    expect(c.bindings).toContain(evil)
  })

  it('joins along FK paths from the FROM table, each dataset once', () => {
    const c = compile({
      measures: [{ field: 'sales.units', aggregation: 'sum', as: 'units' }],
      dimensions: [{ field: 'regions.region_name', as: 'region_name' }],
      filter: { op: 'eq', field: 'stores.store_name', value: 'North' },
    })
    expect(c.sql).toMatch(
      /from `sales` as `sales` inner join `stores` as `stores` on `stores`.`store_id` = `sales`.`store_id` inner join `regions`/,
    )
    expect(c.sql.match(/join `stores`/g)).toHaveLength(1)
    expect(c.columns).toEqual([
      { name: 'region_name', type: 'string', label: 'Region name' },
      { name: 'units', type: 'integer', label: 'Total Units' },
    ])
  })

  it('buckets time as the first day of the period in each dialect', () => {
    const p = {
      measures: [{ field: 'sales.*', aggregation: 'count' as const, as: 'n' }],
      dimensions: [{ field: 'sales.sold_on', grain: 'quarter' as const, as: 'quarter' }],
    }
    expect(compile(p, 'sqlite').sql).toContain("printf('%s-%02d-01', strftime('%Y', `sales`.`sold_on`)")
    expect(compile(p, 'mysql').sql).toContain(
      'DATE_FORMAT(MAKEDATE(YEAR(`sales`.`sold_on`), 1) + INTERVAL (QUARTER(`sales`.`sold_on`) - 1) QUARTER',
    )
    expect(compile(p).columns[0]).toMatchObject({ name: 'quarter', type: 'date' })
  })

  it('groups by an entity key alone and reads its label with MIN()', () => {
    const c = compile({
      measures: [{ field: 'sales.amount', aggregation: 'sum', as: 'amount' }],
      dimensions: [
        { field: 'stores.store_id', as: 'store_id' },
        { field: 'stores.store_name', as: 'store_name' },
      ],
    })
    expect(c.sql).toContain('MIN(`stores`.`store_name`) as `store_name`')
    expect(c.sql).toMatch(/group by `stores`.`store_id`$/)
  })

  it('compiles HAVING on the measure expression', () => {
    const c = compile({
      measures: [{ field: 'sales.*', aggregation: 'count', as: 'n' }],
      dimensions: [{ field: 'sales.store_id', as: 'store_id' }],
      having: { op: 'gt', field: 'n', value: 10 },
    })
    expect(c.sql).toContain('having COUNT(*) > ?')
  })

  it('adds the row scope to every table, through the FK path, for restricted principals only', () => {
    const p = { measures: [{ field: 'sales.amount', aggregation: 'sum' as const, as: 'amount' }] }
    expect(compile(p).sql).not.toContain('where')
    const viewer = { ...localPrincipal('t', ['viewer']), attributes: { regions: ['R1'] } }
    const scoped = compile(p, 'sqlite', viewer)
    expect(scoped.sql).toContain('`sales`.`store_id` in (select')
    expect(scoped.bindings).toContain('R1')
  })

  it('rejects references the model does not have', () => {
    expect(() => compile({ measures: [{ field: 'sales.password', aggregation: 'sum', as: 'x' }] })).toThrow(
      expect.objectContaining({ code: 'UNKNOWN_FIELD' }),
    )
    expect(() =>
      compile({
        measures: [{ field: 'sales.amount', aggregation: 'sum', as: 'a' }],
        order: [{ by: 'nope', direction: 'asc' }],
      }),
    ).toThrow(/not an output column/)
  })
})
