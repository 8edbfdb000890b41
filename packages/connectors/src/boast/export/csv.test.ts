import { text } from 'node:stream/consumers'
import { describe, expect, it } from 'vitest'
import { cellText, csvStream } from './csv.ts'

const page = (rows: unknown[][]) => ({
  columns: [
    { name: 'name', type: 'string' as const, label: 'Name' },
    { name: 'amount', type: 'decimal' as const, label: 'Amount' },
    { name: 'day', type: 'date' as const, label: 'Day' },
  ],
  rows,
  rowCount: rows.length,
  truncated: false,
  durationMs: 0,
})

describe('CSV of engine pages', () => {
  it('renders ISO dates, dot decimals and empty nulls', () => {
    expect(cellText(new Date('2024-03-01T00:00:00Z'), 'date')).toBe('2024-03-01')
    expect(cellText(new Date('2024-03-01T10:20:30Z'), 'datetime')).toBe('2024-03-01T10:20:30.000Z')
    expect(cellText(1234.5, 'decimal')).toBe('1234.5')
    expect(cellText(null, 'string')).toBe('')
    expect(cellText(1, 'boolean')).toBe('true')
  })

  it('writes RFC 4180: header, CRLF, quotes around delimiters, quotes and line breaks', async () => {
    async function* more() {
      yield page([['x;y', 2, '2024-01-02']])
    }
    let rows = 0
    const out = await text(
      csvStream(
        page([
          ['say "hi"', 1.5, '2024-01-01'],
          ['two\nlines', null, null],
        ]),
        more(),
        {
          delimiter: ';',
          onRows: (n) => {
            rows += n
          },
        },
      ),
    )
    expect(out).toBe(
      'name;amount;day\r\n"say ""hi""";1.5;2024-01-01\r\n"two\nlines";;\r\n"x;y";2;2024-01-02\r\n',
    )
    expect(rows).toBe(3)
  })

  it('formats booleans, non-finite numbers, datetimes and bytes as cellText does, in place', async () => {
    const typed = {
      columns: [
        { name: 'ok', type: 'boolean' as const, label: 'OK' },
        { name: 'n', type: 'decimal' as const, label: 'N' },
        { name: 'at', type: 'datetime' as const, label: 'At' },
        { name: 'day', type: 'date' as const, label: 'Day' },
        { name: 'raw', type: 'string' as const, label: 'Raw' },
      ],
      rows: [
        [
          true,
          Number.NaN,
          new Date('2024-03-01T10:20:30Z'),
          new Date('2024-03-01T00:00:00Z'),
          Buffer.from('hi'),
        ],
        [false, 1e21, null, null, null],
      ],
      rowCount: 2,
      truncated: false,
      durationMs: 0,
    }
    async function* none() {}
    const out = await text(csvStream(typed, none(), { delimiter: ',', onRows: () => {} }))
    expect(out).toBe(
      'ok,n,at,day,raw\r\ntrue,,2024-03-01T10:20:30.000Z,2024-03-01,aGk=\r\nfalse,1e+21,,,\r\n',
    )
  })
})
