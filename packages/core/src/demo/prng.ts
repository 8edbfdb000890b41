/**
 * A small seeded PRNG (sfc32, seeded through splitmix32) with the few distributions the demo
 * generator needs. Pure 32-bit integer arithmetic, so the same seed gives the same stream on every
 * platform — which is what makes a seeded demo database identical on SQLite and MySQL.
 */

/** FNV-1a of a string, used to derive independent streams ("hcps", "calls", …) from one seed. */
export function hashString(s: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}

function splitmix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) | 0
  let z = state.s
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b)
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35)
  return (z ^ (z >>> 16)) >>> 0
}

export class Random {
  private a: number
  private b: number
  private c: number
  private d: number

  /** `seed` is any safe integer; `stream` names an independent sub-stream of that seed. */
  constructor(seed: number, stream = '') {
    const lo = seed >>> 0
    const hi = Math.floor(seed / 4294967296) >>> 0
    const st = { s: (lo ^ Math.imul(hi, 0x27d4eb2d) ^ hashString(stream)) | 0 }
    this.a = splitmix32(st)
    this.b = splitmix32(st)
    this.c = splitmix32(st)
    this.d = splitmix32(st)
    for (let i = 0; i < 12; i++) this.u32()
  }

  /** A uniform unsigned 32-bit integer. */
  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0
    this.d = (this.d + 1) | 0
    this.a = this.b ^ (this.b >>> 9)
    this.b = (this.c + (this.c << 3)) | 0
    this.c = (this.c << 21) | (this.c >>> 11)
    this.c = (this.c + t) | 0
    return t >>> 0
  }

  /** A uniform float in [0, 1). */
  next(): number {
    return this.u32() / 4294967296
  }

  /** A uniform integer in [min, max] (inclusive). */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1))
  }

  chance(p: number): boolean {
    return this.next() < p
  }

  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.next() * items.length)]
    if (item === undefined) throw new RangeError('pick() from an empty list')
    return item
  }

  /** A standard normal variate (Box–Muller; one of the pair is discarded to keep the stream simple). */
  normal(): number {
    const u = 1 - this.next()
    const v = this.next()
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v)
  }

  /** exp(N(mu, sigma)). */
  lognormal(mu: number, sigma: number): number {
    return Math.exp(mu + sigma * this.normal())
  }

  /** A Poisson count: Knuth's product method for small means, a rounded normal for large ones. */
  poisson(mean: number): number {
    if (mean <= 0) return 0
    if (mean > 40) return Math.max(0, Math.round(mean + Math.sqrt(mean) * this.normal()))
    const limit = Math.exp(-mean)
    let k = 0
    let p = this.next()
    while (p > limit) {
      k++
      p *= this.next()
    }
    return k
  }

  /** Successes in n trials of probability p (n is small here: a week's scripts). */
  binomial(n: number, p: number): number {
    let k = 0
    for (let i = 0; i < n; i++) if (this.next() < p) k++
    return k
  }
}

/** A categorical distribution over indexes 0..n-1, sampled by binary search on cumulative weights. */
export class Categorical {
  private readonly cumulative: Float64Array

  constructor(weights: readonly number[]) {
    this.cumulative = new Float64Array(weights.length)
    let sum = 0
    weights.forEach((w, i) => {
      if (!(w >= 0)) throw new RangeError('weights must be non-negative numbers')
      sum += w
      this.cumulative[i] = sum
    })
    if (!(sum > 0)) throw new RangeError('weights must not all be zero')
  }

  sample(rng: Random): number {
    const c = this.cumulative
    const x = rng.next() * (c[c.length - 1] as number)
    let lo = 0
    let hi = c.length - 1
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (x < (c[mid] as number)) hi = mid
      else lo = mid + 1
    }
    return lo
  }
}
