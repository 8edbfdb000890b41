import { describe, expect, it } from 'vitest'
import type { ResultColumn } from '../results.ts'
import { normalizeRows } from './rows.ts'

const col = (name: string, type: ResultColumn['type']): ResultColumn => ({ name, label: name, type })

describe('normalizeRows', () => {
  const columns = [
    col('n', 'integer'),
    col('d', 'decimal'),
    col('b', 'boolean'),
    col('day', 'date'),
    col('at', 'datetime'),
    col('s', 'string'),
  ]

  it('converts driver values to the types the columns promise', () => {
    const at = new Date('2024-03-04T05:06:07.000Z')
    const rows = normalizeRows(
      [
        [10n, '12.50', 1, at, at, 7n],
        ['3', 2.5, '0', '2024-01-31 00:00:00', '2024-01-31 10:00:00', true],
        [null, undefined, 'TRUE', '2024-02-01', null, 'x'],
        ['n/a', '1e3', true, 20240201, 5, at],
      ],
      columns,
    )
    expect(rows).toEqual([
      [10, 12.5, true, '2024-03-04', '2024-03-04T05:06:07.000Z', 7],
      [3, 2.5, false, '2024-01-31', '2024-01-31 10:00:00', true],
      [null, null, true, '2024-02-01', null, 'x'],
      ['n/a', 1000, true, '20240201', '5', '2024-03-04T05:06:07.000Z'],
    ])
  })

  it('rewrites the rows it is given instead of copying them', () => {
    const input = [[1, '2024-01-31', 'a']]
    const rows = normalizeRows(input, [col('n', 'integer'), col('day', 'date'), col('s', 'string')])
    expect(rows).toBe(input)
    expect(rows[0]).toBe(input[0])
  })

  it('treats cells beyond the known columns as strings', () => {
    expect(normalizeRows([[1, 2n]], [col('n', 'integer')])).toEqual([[1, 2]])
  })
})
