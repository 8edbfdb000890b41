import { describe, expect, it } from 'vitest'
import { scheduledTick } from './runner.ts'

describe('scheduledTick', () => {
  const noon = Date.UTC(2030, 0, 1, 12)
  it('gives every replica the same slot for one tick, however late or early its timer fired', () => {
    for (const pattern of ['0 * * * *', '*/5 * * * * *'])
      for (const skew of [-1, 0, 3, 11, 250])
        expect(scheduledTick(pattern, new Date(noon + skew)).toISOString(), `${pattern} ${skew}`).toBe(
          '2030-01-01T12:00:00.000Z',
        )
  })
  it('keeps two ticks of a per-second pattern apart', () => {
    expect(scheduledTick('* * * * * *', new Date(noon + 1002)).getTime()).toBe(noon + 1000)
  })
})
