import { describe, expect, it } from 'vitest'
import type { AuditAppendInput } from './record.ts'
import { createRefusalFloods } from './refusal-floods.ts'

const event = (requestId: string): AuditAppendInput => ({
  action: 'request.refused',
  outcome: 'denied',
  requestId,
  detail: { status: 429 },
})

describe('createRefusalFloods', () => {
  it('writes one event per credential and window with the count, the first and the last request id', async () => {
    const written: { tenant: string; event: AuditAppendInput }[] = []
    const floods = createRefusalFloods({
      write: async (tenant, e) => void written.push({ tenant, event: e }),
    })
    for (let i = 0; i < 50; i++) floods.add('acme', 'key-a', event(`a${i}`), 60_000)
    floods.add('acme', 'key-b', event('b0'), 60_000)
    expect(written).toHaveLength(0)
    await floods.flush()
    expect(written).toHaveLength(2)
    expect(written[0]?.event).toMatchObject({
      requestId: 'a0',
      detail: { status: 429, count: 50, lastRequestId: 'a49' },
    })
    expect(written[1]?.event).toMatchObject({ requestId: 'b0', detail: { count: 1 } })
  })

  it('writes the oldest window early rather than holding more than maxOpen credentials', async () => {
    const written: string[] = []
    const floods = createRefusalFloods({
      write: async (_t, e) => void written.push(e.requestId ?? ''),
      maxOpen: 2,
    })
    floods.add('acme', 'k1', event('r1'), 60_000)
    floods.add('acme', 'k2', event('r2'), 60_000)
    floods.add('acme', 'k3', event('r3'), 60_000)
    expect(written).toEqual(['r1'])
    await floods.flush()
    expect(written.sort()).toEqual(['r1', 'r2', 'r3'])
  })
})
