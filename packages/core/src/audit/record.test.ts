import { describe, expect, it } from 'vitest'
import { chainHash, GENESIS_HASH } from './canonical.ts'
import { fromRow, prepareEvent, recordOf, toRow } from './record.ts'

describe('audit event normalisation', () => {
  it('hashes the same before storing and after reading back, even with odd strings', () => {
    const prepared = prepareEvent({
      action: 'data.query',
      outcome: 'success',
      subject: `lone \ud800 surrogate ${'x'.repeat(300)}`,
      durationMs: 12.7,
      detail: { q: 'emoji 😀 and \ud800', n: 1.5, skip: undefined },
    })
    expect(prepared.subject).toHaveLength(255)
    expect(prepared.durationMs).toBe(13)
    const record = { ...prepared, tenant: 't', seq: 1 }
    const hash = chainHash(GENESIS_HASH, record)
    const back = fromRow(JSON.parse(JSON.stringify(toRow(record, GENESIS_HASH, hash))))
    expect(chainHash(GENESIS_HASH, recordOf(back))).toBe(hash)
  })

  it('replaces an oversized detail with a marker instead of failing the write', () => {
    const prepared = prepareEvent({ action: 'x', outcome: 'success', detail: { blob: 'y'.repeat(20_000) } })
    expect(prepared.detail).toEqual({ truncated: true, chars: expect.any(Number) })
  })

  it('maps an unknown outcome to error rather than storing it', () => {
    expect(prepareEvent({ action: 'x', outcome: 'weird' as 'success' }).outcome).toBe('error')
  })
})
