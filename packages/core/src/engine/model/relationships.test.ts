import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type DataSource, introspect, openDataSource, type SchemaInfo } from '../../db/index.ts'
import { col, table } from '../testing/schema-builders.ts'
import { inferModel } from './infer.ts'
import { candidateKeys, withInferredKeys } from './relationships.ts'

const id = (name = 'id') => col(name, 'integer', { primaryKey: true, unique: true, nullable: false })
const fkOf = (s: SchemaInfo) =>
  candidateKeys(s).map(({ table, fk }) => `${table}.${fk.columns[0]}->${fk.refTable}.${fk.refColumns[0]}`)

describe('relationships the schema does not declare', () => {
  it('reads snake_case, camelCase, abbreviated and prefixed names', () => {
    const schema: SchemaInfo = {
      dialect: 'sqlite',
      tables: [
        table('accounts', [id(), col('name', 'string')]),
        table('tblCustomer', [id('custId'), col('custName', 'string')]),
        table('Warehouse', [id(), col('whseName', 'string')]),
        table('invoices', [id(), col('account_id', 'integer'), col('amount', 'decimal')]),
        table('tblShipment', [id('shipId'), col('custId', 'integer'), col('whseID', 'integer')]),
      ],
    }
    expect(fkOf(schema).sort()).toEqual([
      'invoices.account_id->accounts.id',
      'tblShipment.custId->tblCustomer.custId',
      'tblShipment.whseID->Warehouse.id',
    ])
  })

  it('needs the key type to match and one table only, and leaves role names such as manager_id alone', () => {
    const schema: SchemaInfo = {
      dialect: 'sqlite',
      tables: [
        table('users', [id(), col('manager_id', 'integer'), col('team_id', 'string')]),
        table('teams', [id(), col('name', 'string')]),
      ],
    }
    expect(fkOf(schema)).toEqual([])
  })

  it('keeps declared keys as they are and adds none twice', () => {
    const schema: SchemaInfo = {
      dialect: 'sqlite',
      tables: [
        table('accounts', [id()]),
        table(
          'invoices',
          [id(), col('account_id', 'integer')],
          [{ columns: ['account_id'], refTable: 'accounts', refColumns: ['id'] }],
        ),
      ],
    }
    expect(candidateKeys(schema)).toEqual([])
  })

  describe('checked on a sample of the values', () => {
    let dir: string
    let ds: DataSource
    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'nl2q-rel-'))
      ds = openDataSource(`sqlite:${join(dir, 'x.sqlite')}`)
      await ds.knex.raw('CREATE TABLE accounts (id INTEGER PRIMARY KEY, name TEXT)')
      await ds.knex.raw('CREATE TABLE regions (id INTEGER PRIMARY KEY, name TEXT)')
      await ds.knex.raw(
        'CREATE TABLE invoices (id INTEGER PRIMARY KEY, account_id INTEGER, region_id INTEGER, amount REAL)',
      )
      // orders reference customers 1..1000 while only 250 exist: the smallest ids all match, the
      // rest are orphans an inner join would drop without a word
      await ds.knex.raw('CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)')
      await ds.knex.raw('CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER, total REAL)')
      await ds.knex.batchInsert(
        'customers',
        Array.from({ length: 250 }, (_, i) => ({ id: i + 1, name: `c${i + 1}` })),
        100,
      )
      await ds.knex.batchInsert(
        'orders',
        Array.from({ length: 1000 }, (_, i) => ({ id: i + 1, customer_id: i + 1, total: 20 })),
        100,
      )
      await ds.knex('accounts').insert([1, 2, 3].map((i) => ({ id: i, name: `a${i}` })))
      await ds.knex('regions').insert([1, 2].map((i) => ({ id: i, name: `r${i}` })))
      // region_id holds codes that are mostly not region keys: not a relationship
      await ds.knex('invoices').insert(
        Array.from({ length: 20 }, (_, i) => ({
          id: i + 1,
          account_id: (i % 3) + 1,
          region_id: 100 + i,
          amount: i,
        })),
      )
    })
    afterAll(async () => {
      await ds?.knex.destroy()
      if (dir) rmSync(dir, { recursive: true, force: true })
    })

    it('accepts a column whose values are keys and refuses one whose values are not', async () => {
      const schema = await withInferredKeys(await introspect(ds), ds)
      const model = inferModel(schema)
      expect(model.joins).toEqual([
        {
          inferred: true,
          from: { dataset: 'invoices', columns: ['account_id'] },
          to: { dataset: 'accounts', columns: ['id'] },
        },
      ])
      const invoices = model.datasets.find((d) => d.name === 'invoices')
      expect(invoices?.fields.find((f) => f.name === 'account_id')?.kind).toBe('key')
      expect(invoices?.fields.find((f) => f.name === 'amount')).toMatchObject({
        kind: 'measure',
        unit: 'currency',
      })
      expect(invoices?.fields.find((f) => f.name === 'amount')?.synonyms).toContain('revenue')
    })
  })
})
