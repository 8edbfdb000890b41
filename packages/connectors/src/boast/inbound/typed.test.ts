import { describe, expect, it } from 'vitest'
import { typedCell } from './typed.ts'

const col = (type: Parameters<typeof typedCell>[1]['type'], nullable = true) => ({
  name: 'c',
  type,
  nullable,
})

describe('typedCell', () => {
  it('types integers, decimals, booleans, dates and date-times', () => {
    expect(typedCell('42', col('integer'))).toEqual({ value: 42 })
    expect(typedCell('-0.25', col('decimal'))).toEqual({ value: -0.25 })
    expect(typedCell('1e3', col('decimal'))).toEqual({ value: 1000 })
    expect(typedCell('true', col('boolean'))).toEqual({ value: true })
    expect(typedCell('0', col('boolean'))).toEqual({ value: false })
    expect(typedCell('2024-02-29', col('date'))).toEqual({ value: '2024-02-29' })
    expect(typedCell('2024-02-29T10:00:00+01:00', col('datetime'))).toEqual({
      value: '2024-02-29T09:00:00.000Z',
    })
  })

  it('refuses what is not the declared type, with the cell in the reason', () => {
    expect(typedCell('4.5', col('integer'))).toEqual({ problem: "'4.5' is not an integer" })
    expect(typedCell('9007199254740993', col('integer'))).toHaveProperty('problem')
    expect(typedCell('1,5', col('decimal'))).toEqual({ problem: "'1,5' is not a decimal" })
    expect(typedCell('yes', col('boolean'))).toHaveProperty('problem')
    expect(typedCell('2023-02-29', col('date'))).toEqual({ problem: "'2023-02-29' is not a real date" })
    expect(typedCell('15/01/2024', col('date'))).toHaveProperty('problem')
    expect(typedCell('2024-01-15 25:00', col('datetime'))).toHaveProperty('problem')
  })

  it('reads an empty cell as null only where the column is nullable', () => {
    expect(typedCell('', col('integer'))).toEqual({ value: null })
    expect(typedCell('', col('string', false))).toEqual({ problem: 'empty, but the column is not nullable' })
  })
})
