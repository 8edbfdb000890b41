import { describe, expect, it } from 'vitest'
import { type EdmType, jsonValue, NOT_PLAIN, plainWriter } from './edm.ts'
import type { EntitySet } from './entity-sets.ts'
import type { Page } from './page.ts'
import type { QueryOptions } from './query-options.ts'
import { collectionBody } from './serialize.ts'

const TYPES: EdmType[] = [
  'Edm.String',
  'Edm.Int64',
  'Edm.Decimal',
  'Edm.Double',
  'Edm.Boolean',
  'Edm.Date',
  'Edm.DateTimeOffset',
]
const VALUES: unknown[] = [
  null,
  undefined,
  0,
  -0,
  42,
  -7.25,
  1e21,
  1.5e-7,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  12345678901234567890n,
  '12345678901234567890',
  '0.10',
  '-0',
  '17',
  'abc',
  'quote " and \\ and \u2028 and \ud800',
  '',
  true,
  false,
  '1',
  '2024-10-04',
  '2024-10-04 13:05:00',
  '2024-10-04T13:05:00.123Z',
  new Date(Date.UTC(2024, 9, 4, 13, 5, 0)),
]

describe('plainWriter', () => {
  it('gives a value whose JSON text is exactly jsonValue, or NOT_PLAIN', () => {
    for (const ieee754 of [false, true])
      for (const type of TYPES)
        for (const value of VALUES) {
          const plain = plainWriter(type, { ieee754 })(value)
          if (plain === NOT_PLAIN) continue
          expect(JSON.stringify(plain), `${type} ${String(value)} ieee754=${ieee754}`).toBe(
            jsonValue(type, value, { ieee754 }),
          )
        }
  })

  it('has no plain form only for numbers a double cannot write exactly', () => {
    const int = plainWriter('Edm.Int64', { ieee754: false })
    expect(int('12345678901234567890')).toBe(NOT_PLAIN)
    expect(int(12345678901234567890n)).toBe(NOT_PLAIN)
    expect(plainWriter('Edm.Decimal', { ieee754: false })('0.10')).toBe(NOT_PLAIN)
    expect(int('17')).toBe(17)
    expect(plainWriter('Edm.Int64', { ieee754: true })('12345678901234567890')).toBe('12345678901234567890')
  })
})

describe('collectionBody', () => {
  const set: EntitySet = {
    name: 'things',
    label: 'Things',
    kind: 'dataset',
    dataset: 'things',
    key: ['id'],
    properties: [
      { name: 'id', source: 'id', type: 'Edm.Int64', nullable: false, label: 'Id' },
      { name: 'amount', source: 'amount', type: 'Edm.Decimal', nullable: true, label: 'Amount' },
      { name: 'day', source: 'day', type: 'Edm.Date', nullable: true, label: 'Day' },
      { name: 'name', source: 'name', type: 'Edm.String', nullable: true, label: 'Name' },
    ],
  }
  const options: QueryOptions = {
    filter: null,
    filterText: null,
    orderbyText: null,
    selectText: null,
    select: null,
    orderby: [],
    top: null,
    skip: 0,
    count: false,
    skiptoken: null,
  }
  // Source rows in another column order, with a probe row past the page.
  const rows = [
    ['a', '2024-10-04', 1, 10.5],
    ['b "quoted"', null, 2, '0.10'],
    ['c', '2024-10-06 00:00:00', 3, 7],
    ['probe', '2024-10-07', 4, 1],
  ]
  const page: Page = {
    properties: set.properties,
    rows,
    columns: [2, 3, 1, 0],
    length: 3,
    nextToken: 'tok',
    remainingTop: null,
    count: null,
  }

  it('writes the first `length` rows in property order, exact decimals as raw numbers', () => {
    const body = collectionBody('http://hub/odata', set, options, page, { ieee754: false })
    expect(body).toContain(
      '"value":[{"id":1,"amount":10.5,"day":"2024-10-04","name":"a"},{"id":2,"amount":0.10,"day":null,"name":"b \\"quoted\\""},{"id":3,"amount":7,"day":"2024-10-06","name":"c"}]',
    )
    expect(body).toContain('"@odata.nextLink":"http://hub/odata/things?$skiptoken=tok"')
    expect(JSON.parse(body).value).toHaveLength(3)
  })

  it('writes Int64 and Decimal as strings for IEEE754Compatible clients', () => {
    const body = collectionBody('http://hub/odata', set, options, page, { ieee754: true })
    expect(JSON.parse(body).value[1]).toEqual({ id: '2', amount: '0.10', day: null, name: 'b "quoted"' })
  })

  /** One row of string properties named `names`, holding the characters of `values`. */
  const stringPage = (names: string[], values: string): Page => ({
    ...page,
    properties: names.map((name) => ({
      name,
      source: name,
      type: 'Edm.String',
      nullable: true,
      label: name,
    })),
    rows: [[...values]],
    columns: names.map((_, i) => i),
    length: 1,
    nextToken: null,
  })

  it('writes property names that are not identifiers as JSON keys, and an empty page as []', () => {
    const names = ['a "b"', 'back\\slash', 'line\u2028sep', 'constructor', 'e']
    const oddPage = stringPage(names, 'vwxyz')
    const odd: EntitySet = { ...set, properties: oddPage.properties }
    const body = collectionBody('http://hub/odata', odd, options, oddPage, { ieee754: false })
    expect(JSON.parse(body).value).toEqual([Object.fromEntries(names.map((n, i) => [n, 'vwxyz'[i]]))])
    expect(body).toContain(
      `"value":[{${names.map((n, i) => `${JSON.stringify(n)}:"${'vwxyz'[i]}"`).join(',')}}]`,
    )
    // Names that would end the generated code's string literal, set the prototype, or be sorted first.
    for (const names of [
      ['"}; globalThis.pwned = 1; ({"', "'); globalThis.pwned = 1; ('", 'x'],
      ['a', '__proto__', 'b'],
      ['b', '1', 'a'],
    ]) {
      const page1 = stringPage(names, 'pqr')
      const text = collectionBody('http://hub/odata', odd, options, page1, { ieee754: false })
      expect(text).toContain(
        `"value":[{${names.map((n, i) => `${JSON.stringify(n)}:"${'pqr'[i]}"`).join(',')}}]`,
      )
      expect((globalThis as { pwned?: unknown }).pwned).toBeUndefined()
    }
    const empty = collectionBody(
      'http://hub/odata',
      set,
      options,
      { ...page, length: 0, nextToken: null },
      { ieee754: false },
    )
    expect(JSON.parse(empty).value).toEqual([])
  })
})
