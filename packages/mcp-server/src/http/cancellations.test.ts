import { describe, expect, it } from 'vitest'
import { InFlightRequests, inspectBody } from './cancellations.ts'

describe('in-flight requests', () => {
  it("cancels only the caller's own request with that id, and forgets released ones", () => {
    const inFlight = new InFlightRequests()
    const mine = inFlight.track('key-a', 7)
    const theirs = inFlight.track('key-b', 7)
    expect(inFlight.cancel('key-a', 7, 'user pressed stop')).toBe(1)
    expect(mine.signal.aborted).toBe(true)
    expect(theirs.signal.aborted).toBe(false)
    expect(inFlight.cancel('key-a', '7')).toBe(0)
    mine.release()
    theirs.release()
    expect(inFlight.size).toBe(0)
    expect(inFlight.cancel('key-a', 7)).toBe(0)
  })

  it('reads request ids and cancellations from a message or a batch', () => {
    expect(
      inspectBody([
        { jsonrpc: '2.0', id: 1, method: 'tools/call' },
        { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 'x', reason: 'stop' } },
        { jsonrpc: '2.0', id: 2, result: {} },
        'junk',
      ]),
    ).toEqual({ requestIds: [1], cancels: [{ requestId: 'x', reason: 'stop' }] })
    expect(inspectBody(undefined)).toEqual({ requestIds: [], cancels: [] })
  })
})
