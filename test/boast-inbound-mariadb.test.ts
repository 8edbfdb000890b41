import { Readable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { validateAndLoad } from '../packages/connectors/src/boast/inbound/load.ts'
import { InboundManifestSchema } from '../packages/connectors/src/boast/inbound/manifest.ts'
import { type DataSource, openDataSource } from '../packages/core/src/db/index.ts'
import { sha256 } from './boast-helpers.ts'
import { createTestDatabase } from './helpers/mysql.ts'

// On MariaDB CREATE TABLE commits implicitly: the loader creates a new table before its transaction
// and drops it again when the load fails, so a bad file leaves no table and no rows there either.
describe('BOAST inbound load into a MariaDB sync target', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>
  let ds: DataSource
  const csv = (rows: string[]) => Buffer.from(`${['id,amount,day', ...rows].join('\r\n')}\r\n`)
  const manifest = (body: Buffer, rowCount: number) =>
    InboundManifestSchema.parse({
      file: 'x.csv',
      table: 'boast_amounts',
      sha256: sha256(body),
      rowCount,
      columns: [
        { name: 'id', type: 'integer', nullable: false },
        { name: 'amount', type: 'decimal' },
        { name: 'day', type: 'date' },
      ],
    })
  const good = Array.from(
    { length: 3000 },
    (_, i) => `${i + 1},${(i % 97) / 4},2024-05-${String((i % 28) + 1).padStart(2, '0')}`,
  )

  beforeAll(async () => {
    db = await createTestDatabase('nl2q_boast')
    ds = openDataSource(db.url)
  }, 60_000)
  afterAll(async () => {
    await ds?.knex.destroy()
    await db?.drop()
  })

  it('leaves no table behind when the first file of a new table is bad', async () => {
    const rows = [...good]
    rows[2500] = '2501,abc,2024-05-01'
    const body = csv(rows)
    const out = await validateAndLoad(ds, manifest(body, rows.length), Readable.from([body]))
    expect(out).toMatchObject({ ok: false, reason: 'invalid', problems: [{ row: 2501, column: 'amount' }] })
    expect(await ds.knex.schema.hasTable('boast_amounts')).toBe(false)
  })

  it('loads a good file, then keeps its rows when a replacement fails', async () => {
    const body = csv(good)
    expect(await validateAndLoad(ds, manifest(body, good.length), Readable.from([body]))).toEqual({
      ok: true,
      rowCount: 3000,
      bytes: body.length,
    })
    const before = await ds.knex('boast_amounts').count({ n: '*' }).sum({ s: 'amount' })
    const bad = csv(good.slice(0, 10))
    const out = await validateAndLoad(ds, manifest(bad, 11), Readable.from([bad]))
    expect(out).toMatchObject({
      ok: false,
      reason: 'invalid',
      problems: [{ row: 0, reason: expect.stringMatching(/10 rows/) }],
    })
    expect(await ds.knex('boast_amounts').count({ n: '*' }).sum({ s: 'amount' })).toEqual(before)
  })
})
