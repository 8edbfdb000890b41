import { describe, expect, it } from 'vitest'
import { createCheckpointSchedule } from './checkpoint-schedule.ts'
import type { Checkpoint } from './checkpoints.ts'

const flush = () => new Promise((r) => setTimeout(r, 0))

describe('checkpoint schedule', () => {
  it('signs a tenant each time N more events are appended, one signing at a time', async () => {
    const signedAt: number[] = []
    let head = 0
    const schedule = createCheckpointSchedule({
      intervalMs: 3_600_000,
      everyEvents: 10,
      heads: async () => [],
      sign: async (tenant) => {
        signedAt.push(head)
        return { tenant, seq: head } as Checkpoint
      },
    })
    for (head = 1; head <= 35; head++) {
      schedule.appended('acme', head)
      await flush()
    }
    schedule.stop()
    expect(signedAt).toEqual([10, 20, 30])
  })

  it('retries a chain that cannot be signed after another N events, not on every append', async () => {
    let attempts = 0
    const errors: unknown[] = []
    const schedule = createCheckpointSchedule({
      intervalMs: 3_600_000,
      everyEvents: 10,
      heads: async () => [],
      onError: (err) => errors.push(err),
      sign: async () => {
        attempts += 1
        throw new Error('chain broken')
      },
    })
    for (let seq = 1; seq <= 25; seq++) {
      schedule.appended('acme', seq)
      await flush()
    }
    schedule.stop()
    expect(attempts).toBe(2)
    expect(errors).toHaveLength(2)
  })

  it('signs an unmoved head once on the timer, even while a slow signing overlaps several ticks', async () => {
    const signs: number[] = []
    const schedule = createCheckpointSchedule({
      intervalMs: 10,
      everyEvents: 1000,
      heads: async () => [{ tenant: 'timer', seq: 3 }],
      sign: async (tenant) => {
        signs.push(3)
        await new Promise((r) => setTimeout(r, 80))
        return { tenant, seq: 3 } as Checkpoint
      },
    })
    await new Promise((r) => setTimeout(r, 300))
    schedule.stop()
    expect(signs).toEqual([3])
  })
})
