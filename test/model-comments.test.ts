import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type DataSource, introspect, openDataSource } from '../packages/core/src/db/index.ts'
import { buildValueIndex, createEngine, inferModel } from '../packages/core/src/engine/index.ts'
import { localPrincipal } from '../packages/core/src/principal.ts'
import { createTestDatabase } from './helpers/mysql.ts'
import { createTestPgDatabase } from './helpers/postgres.ts'

/**
 * Column comments are vocabulary: a short name in a comment ("GMV; gross merchandise value") is a
 * synonym an analyst can ask with, a sentence is kept as the field's description, and a currency
 * named in it gives the unit. Read from MariaDB's COLUMN_COMMENT and PostgreSQL's col_description.
 */
const TARGETS = [
  {
    name: 'MariaDB',
    create: () => createTestDatabase('nl2q_comments'),
    ddl: [
      `CREATE TABLE sales (id INT PRIMARY KEY, region VARCHAR(10),
         gmv DECIMAL(10,2) COMMENT 'GMV; gross merchandise value',
         fx DECIMAL(10,2) COMMENT 'Amount invoiced, before tax, in EUR')`,
    ],
  },
  {
    name: 'PostgreSQL',
    create: () => createTestPgDatabase('nl2q_comments'),
    ddl: [
      'CREATE TABLE sales (id INT PRIMARY KEY, region VARCHAR(10), gmv DECIMAL(10,2), fx DECIMAL(10,2))',
      "COMMENT ON COLUMN sales.gmv IS 'GMV; gross merchandise value'",
      "COMMENT ON COLUMN sales.fx IS 'Amount invoiced, before tax, in EUR'",
    ],
  },
]

for (const target of TARGETS)
  describe(`column comments on ${target.name}`, () => {
    let db: Awaited<ReturnType<typeof createTestDatabase>>
    let ds: DataSource
    beforeAll(async () => {
      db = await target.create()
      ds = openDataSource(db.url)
      for (const stmt of target.ddl) await ds.knex.raw(stmt)
      await ds.knex('sales').insert([
        { id: 1, region: 'North', gmv: 10, fx: 1 },
        { id: 2, region: 'South', gmv: 32.5, fx: 2 },
      ])
    }, 60_000)
    afterAll(async () => {
      await ds?.knex.destroy()
      await db?.drop()
    })

    it('turns short names into synonyms, sentences into descriptions, and currencies into units', async () => {
      const model = inferModel(await introspect(ds))
      const fields = model.datasets[0]?.fields ?? []
      const gmv = fields.find((f) => f.name === 'gmv')
      expect(gmv?.synonyms).toContain('gross merchandise value')
      expect(gmv?.description).toBe('GMV; gross merchandise value')
      const fx = fields.find((f) => f.name === 'fx')
      expect(fx).toMatchObject({
        description: 'Amount invoiced, before tax, in EUR',
        unit: 'currency',
        synonyms: [],
      })
      const engine = createEngine({ ds, model, valueIndex: await buildValueIndex(ds, model) })
      const r = await engine.ask(localPrincipal('t'), { question: 'total gross merchandise value by region' })
      expect(r.rows.map((row) => [row[0], Number(row[1])]).sort()).toEqual([
        ['North', 10],
        ['South', 32.5],
      ])
    })
  })
