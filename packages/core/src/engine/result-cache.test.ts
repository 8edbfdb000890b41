import { describe, expect, it } from 'vitest'
import { localPrincipal, type Principal } from '../principal.ts'
import { QueryPlanSchema } from './plan.ts'
import { createResultCache } from './result-cache.ts'

const plan = QueryPlanSchema.parse({
  dataset: 'calls',
  measures: [{ field: 'calls.*', aggregation: 'count', as: 'n' }],
})
const who = (tenant: string, roles: ('admin' | 'viewer')[], territories?: string[]): Principal => ({
  ...localPrincipal(tenant, roles),
  attributes: territories ? { territories } : {},
})

describe('result cache', () => {
  it('never shares an entry across tenants, roles or attributes', () => {
    const cache = createResultCache<string>({ ttlMs: 60_000, maxEntries: 10 })
    cache.set(who('acme', ['admin']), plan, 'acme-admin')
    expect(cache.get(who('acme', ['admin']), plan)).toBe('acme-admin')
    expect(cache.get(who('globex', ['admin']), plan)).toBeUndefined()
    expect(cache.get(who('acme', ['viewer']), plan)).toBeUndefined()
    cache.set(who('acme', ['viewer'], ['T1', 'T2']), plan, 't1t2')
    expect(cache.get(who('acme', ['viewer'], ['T2', 'T1']), plan)).toBe('t1t2')
    expect(cache.get(who('acme', ['viewer'], ['T1']), plan)).toBeUndefined()
  })

  it('expires entries after the TTL and evicts the least recently used', () => {
    let now = 0
    const cache = createResultCache<number>({ ttlMs: 100, maxEntries: 2, now: () => now })
    const a = who('a', ['admin'])
    const b = who('b', ['admin'])
    const c = who('c', ['admin'])
    cache.set(a, plan, 1)
    cache.set(b, plan, 2)
    expect(cache.get(a, plan)).toBe(1)
    cache.set(c, plan, 3)
    expect(cache.get(b, plan)).toBeUndefined()
    expect(cache.size).toBe(2)
    now = 150
    expect(cache.get(a, plan)).toBeUndefined()
  })

  it('invalidates one tenant or everything', () => {
    const cache = createResultCache<number>({ ttlMs: 1000, maxEntries: 10 })
    cache.set(who('a', ['admin']), plan, 1)
    cache.set(who('b', ['admin']), plan, 2)
    cache.invalidate('a')
    expect(cache.get(who('a', ['admin']), plan)).toBeUndefined()
    expect(cache.get(who('b', ['admin']), plan)).toBe(2)
    cache.invalidate()
    expect(cache.size).toBe(0)
  })
})
