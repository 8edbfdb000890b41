import { isHubError } from '@nl2q/core'
import { describe, expect, it } from 'vitest'
import type { EntitySet } from './entity-sets.ts'
import { parseFilter } from './filter.ts'

const set: EntitySet = {
  name: 'prescriptions',
  label: 'prescription',
  kind: 'dataset',
  dataset: 'prescriptions',
  key: ['rx_id'],
  properties: [
    { name: 'rx_id', source: 'rx_id', type: 'Edm.Int64', nullable: false, label: 'Rx' },
    { name: 'payer_type', source: 'payer_type', type: 'Edm.String', nullable: true, label: 'Payer' },
    { name: 'week_ending', source: 'week_ending', type: 'Edm.Date', nullable: true, label: 'Week' },
    { name: 'filled_at', source: 'filled_at', type: 'Edm.DateTimeOffset', nullable: true, label: 'Filled' },
    { name: 'trx', source: 'trx', type: 'Edm.Int64', nullable: true, label: 'TRx' },
    { name: 'is_company', source: 'is_company', type: 'Edm.Boolean', nullable: true, label: 'Ours' },
  ],
}

const status = (fn: () => unknown) => {
  try {
    fn()
  } catch (err) {
    if (isHubError(err)) return err.status
    throw err
  }
  return 200
}

describe('$filter → plan filter', () => {
  it('translates comparisons, and/or/not and parentheses, flattening chains', () => {
    expect(parseFilter(set, "trx gt 2 and (payer_type eq 'Cash' or not (trx le 5)) and rx_id ne 7")).toEqual({
      op: 'and',
      args: [
        { op: 'gt', field: 'trx', value: 2 },
        {
          op: 'or',
          args: [
            { op: 'eq', field: 'payer_type', value: 'Cash' },
            { op: 'not', arg: { op: 'lte', field: 'trx', value: 5 } },
          ],
        },
        { op: 'ne', field: 'rx_id', value: 7 },
      ],
    })
  })

  it('mirrors a literal on the left and maps null comparisons to is_null/not_null', () => {
    expect(parseFilter(set, '2024-10-01 le week_ending')).toEqual({
      op: 'gte',
      field: 'week_ending',
      value: '2024-10-01',
    })
    expect(parseFilter(set, 'payer_type eq null')).toEqual({ op: 'is_null', field: 'payer_type' })
    expect(parseFilter(set, 'payer_type ne null')).toEqual({ op: 'not_null', field: 'payer_type' })
  })

  it('reads in-lists, quotes and percent signs with the grammar', () => {
    expect(parseFilter(set, "payer_type in ('Cash', 'O''Brien', '50%')")).toEqual({
      op: 'in',
      field: 'payer_type',
      values: ['Cash', "O'Brien", '50%'],
    })
    expect(parseFilter(set, "contains(payer_type,'a\"b#c&d é')")).toEqual({
      op: 'contains',
      field: 'payer_type',
      value: 'a"b#c&d é',
    })
  })

  it('reads an in-list on either side of and/or, nested, negated and beside quoted parentheses', () => {
    const cash = { op: 'in', field: 'payer_type', values: ['Cash'] }
    const trx = { op: 'gt', field: 'trx', value: 2 }
    expect(parseFilter(set, "payer_type in ('Cash') and trx gt 2")).toEqual({ op: 'and', args: [cash, trx] })
    expect(parseFilter(set, "trx gt 2 and payer_type in ('Cash')")).toEqual({ op: 'and', args: [trx, cash] })
    expect(parseFilter(set, "payer_type in ('Cash') or trx gt 2")).toEqual({ op: 'or', args: [cash, trx] })
    expect(parseFilter(set, "payer_type in ('Cash') and trx gt 2 or rx_id eq 7")).toEqual({
      op: 'or',
      args: [
        { op: 'and', args: [cash, trx] },
        { op: 'eq', field: 'rx_id', value: 7 },
      ],
    })
    expect(parseFilter(set, "rx_id in (1, 2) or payer_type in ('Cash') and trx gt 2")).toEqual({
      op: 'or',
      args: [
        { op: 'in', field: 'rx_id', values: [1, 2] },
        { op: 'and', args: [cash, trx] },
      ],
    })
    expect(parseFilter(set, "(payer_type in ('Cash') or trx gt 2) and not (rx_id in (1))")).toEqual({
      op: 'and',
      args: [
        { op: 'or', args: [cash, trx] },
        { op: 'not', arg: { op: 'in', field: 'rx_id', values: [1] } },
      ],
    })
    expect(parseFilter(set, "payer_type in ('a(b', 'it''s') and trx gt 2")).toEqual({
      op: 'and',
      args: [{ op: 'in', field: 'payer_type', values: ['a(b', "it's"] }, trx],
    })
    expect(parseFilter(set, "payer_type eq 'x in (' and trx gt 2")).toEqual({
      op: 'and',
      args: [{ op: 'eq', field: 'payer_type', value: 'x in (' }, trx],
    })
    expect(status(() => parseFilter(set, "payer_type in ('Cash' and trx gt 2"))).toBe(400)
  })

  it('negates only the operand right after not, as OData precedence says', () => {
    const two = { op: 'gt', field: 'trx', value: 2 }
    const cash = { op: 'eq', field: 'payer_type', value: 'Cash' }
    expect(parseFilter(set, "not (trx gt 2) and payer_type eq 'Cash'")).toEqual({
      op: 'and',
      args: [{ op: 'not', arg: two }, cash],
    })
    expect(parseFilter(set, "not contains(payer_type,'x') or trx gt 2 and payer_type eq 'Cash'")).toEqual({
      op: 'or',
      args: [
        { op: 'not', arg: { op: 'contains', field: 'payer_type', value: 'x' } },
        { op: 'and', args: [two, cash] },
      ],
    })
    expect(parseFilter(set, "not (trx gt 2) and payer_type eq 'Cash' or rx_id eq 7")).toEqual({
      op: 'or',
      args: [
        { op: 'and', args: [{ op: 'not', arg: two }, cash] },
        { op: 'eq', field: 'rx_id', value: 7 },
      ],
    })
    expect(parseFilter(set, "not (trx gt 2 and payer_type eq 'Cash')")).toEqual({
      op: 'not',
      arg: { op: 'and', args: [two, cash] },
    })
  })

  it('compares timestamps in UTC and dates with a timestamp by its wall-clock date', () => {
    expect(parseFilter(set, 'filled_at ge 2024-10-01T02:00:00+02:00')).toEqual({
      op: 'gte',
      field: 'filled_at',
      value: '2024-10-01 00:00:00',
    })
    expect(parseFilter(set, 'week_ending ge 2024-10-01T00:00:00-07:00')).toEqual({
      op: 'gte',
      field: 'week_ending',
      value: '2024-10-01',
    })
    expect(parseFilter(set, 'week_ending lt 2024-10-01T12:00:00Z')).toEqual({
      op: 'lte',
      field: 'week_ending',
      value: '2024-10-01',
    })
  })

  it('refuses type mismatches and unknown properties with 400, unsupported forms with 501', () => {
    expect(status(() => parseFilter(set, "trx eq 'x'"))).toBe(400)
    expect(status(() => parseFilter(set, 'nope eq 1'))).toBe(400)
    expect(status(() => parseFilter(set, 'trx eq'))).toBe(400)
    expect(status(() => parseFilter(set, 'year(week_ending) eq 2024'))).toBe(501)
    expect(status(() => parseFilter(set, "tolower(payer_type) eq 'cash'"))).toBe(501)
    expect(status(() => parseFilter(set, 'trx add 1 eq 2'))).toBe(501)
  })

  it.each(['1', 'eq', "'x'", 'null', '-1', 'trx', 'trx add 1', 'not 1', '1 and 2', 'is_company and 5'])(
    'refuses the malformed $filter %j with 400, not 501',
    (text) => {
      expect(status(() => parseFilter(set, text))).toBe(400)
    },
  )

  it('reads a bare Boolean property as a condition, and keeps 501 for valid but unsupported forms', () => {
    expect(parseFilter(set, 'is_company')).toEqual({ op: 'eq', field: 'is_company', value: true })
    expect(parseFilter(set, 'not is_company')).toEqual({
      op: 'not',
      arg: { op: 'eq', field: 'is_company', value: true },
    })
    expect(status(() => parseFilter(set, 'true'))).toBe(501)
    expect(status(() => parseFilter(set, "payer_type has 'x'"))).toBe(501)
  })
})
