import { describe, expect, it } from 'vitest'
import { createSingleFlight } from './single-flight.ts'

describe('single-flight', () => {
  it('aborts the shared run only when every caller has left, and starts afresh after', async () => {
    const flights = createSingleFlight<string>()
    let runs = 0
    let seen: AbortSignal | undefined
    const slow = (signal: AbortSignal) => {
      runs++
      seen = signal
      return new Promise<string>((resolve, reject) => {
        const t = setTimeout(() => resolve('done'), 200)
        signal.addEventListener('abort', () => {
          clearTimeout(t)
          reject(new Error('stopped'))
        })
      })
    }
    const a = new AbortController()
    const b = new AbortController()
    const first = flights.run('k', a.signal, slow)
    const second = flights.run('k', b.signal, slow)
    a.abort()
    await expect(first).rejects.toMatchObject({ code: 'TIMEOUT' })
    expect(seen?.aborted).toBe(false)
    b.abort()
    await expect(second).rejects.toMatchObject({ code: 'TIMEOUT' })
    expect(seen?.aborted).toBe(true)
    expect(flights.size).toBe(0)
    expect(await flights.run('k', undefined, async () => 'fresh')).toEqual({ value: 'fresh', joined: false })
    expect(runs).toBe(1)
  })
})
