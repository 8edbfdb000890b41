import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type DataSource, introspect, openDataSource } from '../../db/index.ts'
import { testPrincipal } from '../../sql-guard/testing/pharma-fixture.ts'
import { createTestDatabase } from '../../testing/test-databases.ts'
import { createEngine } from '../engine.ts'
import { inferModel } from '../model/infer.ts'
import type { QueryPlan } from '../plan.ts'
import { canonicalJsonRow, JSON_ROW_COLUMN } from './json-rows.ts'

/** Every character JSON escapes, the ones MariaDB's JSON_QUOTE writes in upper-case hex among them. */
const CONTROL = Array.from({ length: 32 }, (_, i) => String.fromCharCode(i)).join('')
const TEXTS = [
  'plain',
  `quote " backslash \\ slash / ${CONTROL}`,
  // the text of an escape, not an escape: must stay as it is
  '\\u000B and \\u001f written out',
  'é ü ß — “quotes” \u2028\u2029 \ufeff 😀 𝄞',
  '',
  null,
]

const plan = (select: string[], order = 'id'): QueryPlan => ({
  dataset: 'things',
  measures: [],
  dimensions: [],
  select: select.map((f) => ({ field: `things.${f}`, as: f })),
  filter: null,
  having: null,
  order: [{ by: order, direction: 'asc' }],
  limit: null,
  offset: 0,
  distinct: false,
})

describe('JSON rows (MariaDB)', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>
  let ds: DataSource
  let engine: ReturnType<typeof createEngine>
  const admin = testPrincipal(['admin'])
  const all = ['id', 'big', 'small', 'flag', 'name', 'latin', 'kind', 'day', 'note']

  beforeAll(async () => {
    db = await createTestDatabase('nl2q_jsonrows')
    ds = openDataSource(db.url)
    await ds.knex.raw(`CREATE TABLE things (
      id INT NOT NULL PRIMARY KEY,
      big BIGINT NULL,
      small INT UNSIGNED NOT NULL,
      flag TINYINT(1) NULL,
      name VARCHAR(200) COLLATE utf8mb4_bin NULL,
      latin VARCHAR(40) CHARACTER SET latin1 NULL,
      kind ENUM('a', 'b"c') NULL,
      day DATE NULL,
      note TEXT NULL,
      price DECIMAL(10, 2) NULL,
      padded INT(6) UNSIGNED ZEROFILL NULL
    )`)
    const bigs = [0, -1, 9007199254740991, -9007199254740991, 9007199254740993n, -9223372036854775808n, null]
    const rows = TEXTS.flatMap((text, i) =>
      bigs.map((big, j) => {
        const id = i * bigs.length + j + 1
        return {
          id,
          big: typeof big === 'bigint' ? big.toString() : big,
          small: id * 1000,
          flag: j % 3 === 2 ? null : j % 2,
          name: text,
          latin: j % 2 ? 'café' : null,
          kind: j % 3 === 0 ? 'b"c' : j % 3 === 1 ? 'a' : null,
          day: j % 4 === 3 ? null : j % 4 === 2 ? '0000-00-00' : `2024-0${(j % 9) + 1}-1${j % 10}`,
          note: text,
          price: '12.50',
          padded: 42,
        }
      }),
    )
    await ds.knex.raw("SET SESSION sql_mode = ''")
    await ds.knex('things').insert(rows)
    engine = createEngine({ ds, model: inferModel(await introspect(ds)) })
  })

  afterAll(async () => {
    await ds?.knex.destroy()
    await db?.drop()
  })

  it('writes each row as JSON.stringify writes the row the hub returns otherwise, keys in order', async () => {
    const ordinary = await engine.query(admin, plan(all))
    const json = await engine.query(admin, plan(all), {}, undefined, { json: all })
    expect(ordinary.columns[0]?.name).toBe('id')
    expect(json.columns.map((c) => c.name)).toEqual([JSON_ROW_COLUMN, 'id'])
    expect(json.rowCount).toBe(ordinary.rowCount)
    expect(json.rowCount).toBe(TEXTS.length * 7)
    ordinary.rows.forEach((row, r) => {
      const expected = JSON.stringify(Object.fromEntries(all.map((name, i) => [name, row[i]])))
      const got = json.rows[r]?.[0]
      expect(Buffer.isBuffer(got)).toBe(true)
      expect((got as Buffer).toString('utf8')).toBe(expected)
      // the order column comes as the ordinary read returns it
      expect(json.rows[r]?.[1]).toBe(row[0])
    })
  })

  it('keeps the keys asked for, in their order, with the order columns after the text', async () => {
    const ordinary = await engine.query(admin, plan(['note', 'id', 'day'], 'day'))
    const json = await engine.query(admin, plan(['note', 'id', 'day'], 'day'), {}, undefined, {
      json: ['day', 'note'],
    })
    // `id` is neither in the text nor an order column: not a JSON read
    expect(json.columns[0]?.name).toBe('note')
    const keyed = await engine.query(
      admin,
      { ...plan(['note', 'day']), order: [{ by: 'day', direction: 'desc' }] },
      {},
      undefined,
      { json: ['note'] },
    )
    const plain = await engine.query(admin, {
      ...plan(['note', 'day']),
      order: [{ by: 'day', direction: 'desc' }],
    })
    expect(keyed.columns.map((c) => c.name)).toEqual([JSON_ROW_COLUMN, 'day'])
    expect(keyed.rows.map((r) => [JSON.parse((r[0] as Buffer).toString()).note, r[1]])).toEqual(
      plain.rows.map((r) => [r[0], r[1]]),
    )
    expect(ordinary.rowCount).toBe(json.rowCount)
  })

  it('reads as usual when a column has no exact JSON form in SQL', async () => {
    for (const col of ['price', 'padded']) {
      const r = await engine.query(admin, plan(['id', col]), {}, undefined, { json: ['id', col] })
      expect(r.columns.map((c) => c.name)).toEqual(['id', col])
    }
    // aggregates are not plain rows
    const counted = await engine.query(
      admin,
      { ...plan([]), measures: [{ field: 'things.*', aggregation: 'count', as: 'n' }], order: [] },
      {},
      undefined,
      { json: ['n'] },
    )
    expect(counted.columns.map((c) => c.name)).toEqual(['n'])
  })

  it('canonicalJsonRow rewrites marked rows and upper-case escapes only', () => {
    expect(canonicalJsonRow(Buffer.from('!{"a":9007199254740993}'), false).toString()).toBe(
      '{"a":9007199254740992}',
    )
    expect(canonicalJsonRow(Buffer.from('{"a":"\\u001F"}'), true).toString()).toBe('{"a":"\\u001f"}')
    const plain = Buffer.from('{"a":"\\\\u001F"}')
    expect(canonicalJsonRow(plain, true).toString()).toBe(plain.toString())
  })
})
