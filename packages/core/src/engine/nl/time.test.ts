import { describe, expect, it } from 'vitest'
import { parseTimeAt } from './time.ts'
import { tokenize } from './tokenize.ts'

const AS_OF = '2025-01-15'

function range(text: string, asOf = AS_OF) {
  const tokens = tokenize(text)
  const m = parseTimeAt(tokens, 0, { asOf, yearAllowed: () => true })
  if (!m) return undefined
  expect(m.end, `"${text}" should be read whole`).toBe(tokens.length)
  return [m.range.start, m.range.end]
}

describe('time expressions', () => {
  it.each([
    ['2024', '2024-01-01', '2024-12-31'],
    ['Q4 2024', '2024-10-01', '2024-12-31'],
    ['q1 of 2023', '2023-01-01', '2023-03-31'],
    ['2024 Q2', '2024-04-01', '2024-06-30'],
    ['the fourth quarter of 2024', '2024-10-01', '2024-12-31'],
    ['3rd quarter 2023', '2023-07-01', '2023-09-30'],
    ['H2 2024', '2024-07-01', '2024-12-31'],
    ['first half of 2024', '2024-01-01', '2024-06-30'],
    ['December 2024', '2024-12-01', '2024-12-31'],
    ['Feb 2024', '2024-02-01', '2024-02-29'],
    ['December 1, 2024', '2024-12-01', '2024-12-01'],
    ['2024-03-05', '2024-03-05', '2024-03-05'],
    ['week of 2024-12-04', '2024-12-02', '2024-12-08'],
    ['week ending 2024-12-07', '2024-12-01', '2024-12-07'],
    ['between March and May 2024', '2024-03-01', '2024-05-31'],
    ['from 2024-01-01 to 2024-03-31', '2024-01-01', '2024-03-31'],
    ['Q1 2024 to Q2 2024', '2024-01-01', '2024-06-30'],
    ['FY2023', '2023-01-01', '2023-12-31'],
  ])('reads "%s" as %s .. %s', (text, start, end) => {
    expect(range(text)).toEqual([start, end])
  })

  it.each([
    ['last quarter', '2024-10-01', '2024-12-31'],
    ['last year', '2024-01-01', '2024-12-31'],
    ['last 6 months', '2024-07-01', '2024-12-31'],
    ['the past 2 quarters', '2024-07-01', '2024-12-31'],
    ['previous month', '2024-12-01', '2024-12-31'],
    ['last week', '2025-01-06', '2025-01-12'],
    ['last 7 days', '2025-01-08', '2025-01-14'],
    ['year to date', '2025-01-01', '2025-01-15'],
    ['ytd', '2025-01-01', '2025-01-15'],
    ['this month', '2025-01-01', '2025-01-15'],
    ['2 months ago', '2024-11-01', '2024-11-30'],
    ['last December', '2024-12-01', '2024-12-31'],
    ['Q3', '2024-07-01', '2024-09-30'],
  ])('reads "%s" against asOf 2025-01-15 as whole calendar periods: %s .. %s', (text, start, end) => {
    expect(range(text)).toEqual([start, end])
  })

  it('opens ranges with since / after / before', () => {
    expect(range('since 2024')).toEqual(['2024-01-01', null])
    expect(range('after 2020')).toEqual(['2021-01-01', null])
    expect(range('before March 2022')).toEqual([null, '2022-02-28'])
    expect(range('through Q1 2024')).toEqual([null, '2024-03-31'])
  })

  it('flags periods after asOf as future', () => {
    const m = parseTimeAt(tokenize('next quarter'), 0, { asOf: AS_OF, yearAllowed: () => true })
    expect(m?.range.future).toBe(true)
    expect(parseTimeAt(tokenize('tomorrow'), 0, { asOf: AS_OF, yearAllowed: () => true })?.range.future).toBe(
      true,
    )
  })

  it('leaves "may" and bare numbers alone when they are not dates', () => {
    expect(parseTimeAt(tokenize('may I see'), 0, { asOf: AS_OF, yearAllowed: () => true })).toBeUndefined()
    expect(parseTimeAt(tokenize('2000 TRx'), 0, { asOf: AS_OF, yearAllowed: () => false })).toBeUndefined()
  })
})
