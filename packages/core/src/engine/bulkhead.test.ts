import { describe, expect, it } from 'vitest'
import { HubError } from '../errors.ts'
import { createBulkhead } from './bulkhead.ts'

const onAbort = () => new HubError('QUERY_TIMEOUT', 'gave up waiting')

function gate() {
  let open: () => void = () => {}
  const opened = new Promise<void>((r) => {
    open = r
  })
  return { open, opened }
}

describe('bulkhead', () => {
  it('runs at most maxConcurrent at once and refuses past the queue bound with 503 TENANT_BUSY', async () => {
    const b = createBulkhead({ maxConcurrent: 2, maxQueued: 1 })
    const g = gate()
    let peak = 0
    let running = 0
    const job = () =>
      b.run(
        async () => {
          peak = Math.max(peak, ++running)
          await g.opened
          running--
          return 'ok'
        },
        undefined,
        onAbort,
      )
    const accepted = [job(), job(), job()]
    const refused = await job().catch((e: unknown) => e)
    expect(refused).toBeInstanceOf(HubError)
    expect((refused as HubError).code).toBe('TENANT_BUSY')
    expect((refused as HubError).status).toBe(503)
    expect((refused as HubError).headers?.['Retry-After']).toMatch(/^\d+$/)
    expect(b.stats()).toEqual({ running: 2, queued: 1 })
    g.open()
    expect(await Promise.all(accepted)).toEqual(['ok', 'ok', 'ok'])
    expect(peak).toBe(2)
    expect(b.stats()).toEqual({ running: 0, queued: 0 })
  })

  it('lets a waiter whose signal fires leave the queue with the mapped error', async () => {
    const b = createBulkhead({ maxConcurrent: 1, maxQueued: 4 })
    const g = gate()
    const first = b.run(() => g.opened, undefined, onAbort)
    const ctrl = new AbortController()
    const waiting = b.run(async () => 'never', ctrl.signal, onAbort)
    ctrl.abort()
    const err = await waiting.catch((e: unknown) => e)
    expect((err as HubError).code).toBe('QUERY_TIMEOUT')
    expect(b.stats()).toEqual({ running: 1, queued: 0 })
    g.open()
    await first
    expect(await b.run(async () => 'next', undefined, onAbort)).toBe('next')
  })
})
