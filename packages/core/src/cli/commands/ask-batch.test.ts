import { describe, expect, it } from 'vitest'
import { HubError } from '../../errors.ts'
import { isRefusal, parseBatch } from './ask-batch.ts'

describe('parseBatch', () => {
  it('reads plain and JSON lines, numbers plain ones by line and skips blanks and comments', () => {
    const lines = parseBatch(
      '# c\r\nTotal TRx\n\n{"id":7,"question":" TRx by region ","asOf":"2025-01-15","gold":1}\n',
    )
    expect(lines).toEqual([
      { id: 2, question: 'Total TRx' },
      { id: 7, question: 'TRx by region', asOf: '2025-01-15' },
    ])
  })

  it('turns a malformed JSON line or one without a question into a BAD_REQUEST for that line', () => {
    const [broken, empty] = parseBatch('{"question":\n{"id":"x","question":""}')
    expect(broken).toMatchObject({ id: 1, error: { code: 'BAD_REQUEST' } })
    expect(empty).toMatchObject({ id: 'x', error: { code: 'BAD_REQUEST' } })
  })

  it('counts only 422 refusals as refusals', () => {
    expect(isRefusal(new HubError('UNANSWERABLE', 'no'))).toBe(true)
    expect(isRefusal(new HubError('BAD_REQUEST', 'no'))).toBe(false)
    expect(isRefusal(new Error('boom'))).toBe(false)
  })
})
