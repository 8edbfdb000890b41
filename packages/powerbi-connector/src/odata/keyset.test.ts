import { describe, expect, it } from 'vitest'
import { matches, sortRows } from './evaluate.ts'
import { afterFilter, decodeSkipToken, encodeSkipToken, type SortKey } from './keyset.ts'

const keys: SortKey[] = [
  { property: 'product_id', direction: 'desc' },
  { property: 'call_id', direction: 'asc' },
]

describe('keyset paging', () => {
  it('selects exactly the rows after the last one, nulls included, in any cut', () => {
    const rows = [
      { call_id: 'c1', product_id: 'P2' },
      { call_id: 'c2', product_id: null },
      { call_id: 'c3', product_id: 'P1' },
      { call_id: 'c4', product_id: 'P2' },
      { call_id: 'c5', product_id: null },
      { call_id: 'c6', product_id: 'P1' },
    ]
    const ordered = sortRows(rows, keys, (r) => r)
    expect(ordered.map((r) => r.call_id)).toEqual(['c1', 'c4', 'c3', 'c6', 'c2', 'c5'])
    for (let i = 0; i < ordered.length; i++) {
      const last = ordered[i] as (typeof rows)[number]
      const filter = afterFilter(keys, [last.product_id, last.call_id])
      expect(ordered.filter((r) => matches(filter, r)).map((r) => r.call_id)).toEqual(
        ordered.slice(i + 1).map((r) => r.call_id),
      )
    }
  })

  it('round-trips a token and refuses one made for another order', () => {
    const token = encodeSkipToken(keys, { values: ['P1', 'c6'] })
    expect(decodeSkipToken(token, keys)).toEqual({ values: ['P1', 'c6'] })
    expect(() => decodeSkipToken(token, [{ property: 'call_id', direction: 'asc' }])).toThrow(/skiptoken/)
    expect(() => decodeSkipToken('not-a-token', keys)).toThrow(/skiptoken/)
  })
})
