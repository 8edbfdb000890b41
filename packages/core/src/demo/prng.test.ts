import { describe, expect, it } from 'vitest'
import { Categorical, Random } from './prng.ts'

const draw = (r: Random, n: number): number[] => Array.from({ length: n }, () => r.u32())

describe('Random', () => {
  it('repeats the same stream for the same seed and stream name', () => {
    expect(draw(new Random(7, 'hcps'), 50)).toEqual(draw(new Random(7, 'hcps'), 50))
  })

  it('gives different streams for different seeds and different stream names', () => {
    const base = draw(new Random(7, 'hcps'), 20)
    expect(draw(new Random(8, 'hcps'), 20)).not.toEqual(base)
    expect(draw(new Random(7, 'calls'), 20)).not.toEqual(base)
    // Seeds beyond 32 bits are not silently truncated.
    expect(draw(new Random(2 ** 32 + 7, 'hcps'), 20)).not.toEqual(base)
  })

  it('keeps floats in [0, 1) and integers within their inclusive bounds', () => {
    const r = new Random(1)
    const floats = Array.from({ length: 10_000 }, () => r.next())
    const ints = new Set(Array.from({ length: 10_000 }, () => r.int(3, 5)))
    expect(floats.filter((x) => !(x >= 0 && x < 1))).toEqual([])
    expect([...ints].sort()).toEqual([3, 4, 5])
  })

  it('draws Poisson counts with the requested mean, small and large', () => {
    const r = new Random(2)
    for (const mean of [0.3, 4, 60]) {
      let sum = 0
      for (let i = 0; i < 20_000; i++) sum += r.poisson(mean)
      expect(sum / 20_000).toBeCloseTo(mean, mean < 1 ? 1 : 0)
    }
    expect(r.poisson(0)).toBe(0)
  })
})

describe('Categorical', () => {
  it('samples indexes in proportion to their weights and never a zero-weight one', () => {
    const r = new Random(3)
    const pick = new Categorical([1, 0, 3])
    const counts = [0, 0, 0]
    for (let i = 0; i < 40_000; i++) {
      const k = pick.sample(r)
      counts[k] = (counts[k] ?? 0) + 1
    }
    expect(counts[1]).toBe(0)
    expect((counts[2] as number) / (counts[0] as number)).toBeGreaterThan(2.7)
    expect((counts[2] as number) / (counts[0] as number)).toBeLessThan(3.3)
  })

  it('rejects weights that are all zero or negative', () => {
    expect(() => new Categorical([0, 0])).toThrow(RangeError)
    expect(() => new Categorical([1, -1])).toThrow(RangeError)
  })
})
