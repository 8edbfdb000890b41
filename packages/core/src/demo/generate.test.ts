import { createHash } from 'node:crypto'
import { beforeAll, describe, expect, it } from 'vitest'
import { WEEKS } from './calendar.ts'
import { SPECIALTIES } from './catalog.ts'
import { type Dimensions, generateDimensions, hcpRow, type Row } from './dimensions.ts'
import { callChunks, prescriptionChunks } from './facts.ts'
import { REGIONS, TERRITORIES } from './geography.ts'

const opts = { prefix: 'ACM', seed: 7, scale: 1 }
let d: Dimensions
let rx: Row[]
let calls: Row[]

function digest(o: typeof opts): string {
  const dims = generateDimensions(o)
  const h = createHash('sha256')
  for (const r of dims.hcps) h.update(JSON.stringify(hcpRow(r, dims)))
  for (const chunk of prescriptionChunks(dims, o)) for (const r of chunk) h.update(JSON.stringify(r))
  for (const chunk of callChunks(dims, o)) for (const r of chunk) h.update(JSON.stringify(r))
  return h.digest('hex')
}

beforeAll(() => {
  d = generateDimensions(opts)
  rx = [...prescriptionChunks(d, opts)].flat()
  calls = [...callChunks(d, opts)].flat()
})

const hcpById = (): Map<string, Dimensions['hcps'][number]> => new Map(d.hcps.map((h) => [h.id, h]))

describe('pharma generator: dimensions', () => {
  it('lays out 20 territories, 4 per region, each with two reps', () => {
    expect(d.territories.map((t) => t.id)).toEqual(
      Array.from({ length: 20 }, (_, i) => `ACM-T${String(i + 1).padStart(2, '0')}`),
    )
    for (const region of REGIONS) expect(TERRITORIES.filter((t) => t.region === region)).toHaveLength(4)
    expect(d.reps).toHaveLength(40)
    expect(d.reps.map((r) => r.id)).toContain('ACM-R040')
    for (let t = 0; t < 20; t++) expect(d.reps.filter((r) => r.territoryIndex === t)).toHaveLength(2)
    expect(new Set(d.reps.map((r) => r.email)).size).toBe(40)
  })

  it('gives every HCP a state of its own territory, a listed specialty and unique NPI and CRM ids', () => {
    expect(d.hcps).toHaveLength(2000)
    const misplaced = d.hcps.filter(
      (h) => !TERRITORIES[h.territoryIndex]?.cities.some((c) => c.state === h.state),
    )
    expect(misplaced).toEqual([])
    expect(d.hcps.filter((h) => !SPECIALTIES.includes(h.specialty))).toEqual([])
    expect(new Set(d.hcps.map((h) => h.npi)).size).toBe(2000)
    expect(new Set(d.hcps.map((h) => h.crmAccountId.toLowerCase())).size).toBe(2000)
    expect(d.hcps.filter((h) => !/^001ACM[0-9A-Za-z]{12}$/.test(h.crmAccountId))).toEqual([])
  })

  it('splits segments 10/20/30/40 with A the highest-potential prescribers', () => {
    const bySegment = [0, 1, 2, 3].map((s) => d.hcps.filter((h) => h.segment === s))
    expect(bySegment.map((s) => s.length)).toEqual([200, 400, 600, 800])
    const minA = Math.min(...(bySegment[0] ?? []).map((h) => h.potential))
    const maxD = Math.max(...(bySegment[3] ?? []).map((h) => h.potential))
    expect(minA).toBeGreaterThan(maxD)
  })

  it('has Endocrinologists in Texas and Cardiologists in California', () => {
    expect(
      d.hcps.filter((h) => h.specialty === 'Endocrinology' && h.state === 'TX').length,
    ).toBeGreaterThanOrEqual(10)
    expect(
      d.hcps.filter((h) => h.specialty === 'Cardiology' && h.state === 'CA').length,
    ).toBeGreaterThanOrEqual(10)
  })
})

describe('pharma generator: prescriptions', () => {
  it('yields about 300,000 weekly rows at scale 1, numbered from 1', () => {
    expect(rx.length).toBeGreaterThan(270_000)
    expect(rx.length).toBeLessThan(330_000)
    expect(rx[0]?.[0]).toBe(1)
    expect(rx.at(-1)?.[0]).toBe(rx.length)
  })

  it('keeps every row in its domain: Saturdays in range, payer types, 1 <= trx, 0 <= nrx <= trx, 30/90-unit scripts', () => {
    const saturdays = new Set(WEEKS.map((w) => w.ending))
    const payers = new Set(['Commercial', 'Medicare', 'Medicaid', 'Cash'])
    const bad = rx.filter((r) => {
      const [, , , week, payer, trx, nrx, qty] = r as [
        number,
        string,
        string,
        string,
        string,
        number,
        number,
        number,
      ]
      return (
        !saturdays.has(week) ||
        !payers.has(payer) ||
        !(trx >= 1) ||
        !(nrx >= 0 && nrx <= trx) ||
        qty % 30 !== 0 ||
        qty < 30 * trx ||
        qty > 90 * trx
      )
    })
    expect(bad).toEqual([])
    expect(WEEKS).toHaveLength(104)
    expect(WEEKS.every((w) => new Date(`${w.ending}T00:00:00Z`).getUTCDay() === 6)).toBe(true)
  })

  it('has segment A write far more than segment D', () => {
    const byId = hcpById()
    const total = [0, 0, 0, 0]
    for (const r of rx) {
      const s = byId.get(r[1] as string)?.segment ?? 0
      total[s] = (total[s] ?? 0) + (r[5] as number)
    }
    // Per prescriber: A is 200 HCPs, D is 800.
    expect((total[0] as number) / 200).toBeGreaterThan((5 * (total[3] as number)) / 800)
  })

  it('gains Tirosint share through 2024 and is higher in winter than in summer', () => {
    const share = (from: string, to: string): number => {
      let tirosint = 0
      let all = 0
      for (const r of rx)
        if ((r[3] as string) >= from && (r[3] as string) <= to) {
          all += r[5] as number
          if (r[2] === 'ACM-P1') tirosint += r[5] as number
        }
      return tirosint / all
    }
    expect(share('2024-07-01', '2024-12-31')).toBeGreaterThan(share('2023-01-01', '2023-12-31') + 0.02)
    const weekly = (months: string[]): number => {
      const weeks = WEEKS.filter((w) => months.includes(w.ending.slice(5, 7)))
      const inWeeks = new Set(weeks.map((w) => w.ending))
      return rx.reduce((s, r) => s + (inWeeks.has(r[3] as string) ? (r[5] as number) : 0), 0) / weeks.length
    }
    expect(weekly(['01', '02'])).toBeGreaterThan(weekly(['07', '08']))
  })

  it('has some California cardiologists writing more than 100 TRx in 2024', () => {
    const byId = hcpById()
    const trx = new Map<string, number>()
    for (const r of rx) {
      const h = byId.get(r[1] as string)
      if (h?.specialty === 'Cardiology' && h.state === 'CA' && (r[3] as string) >= '2024-01-01')
        trx.set(h.id, (trx.get(h.id) ?? 0) + (r[5] as number))
    }
    expect([...trx.values()].filter((v) => v > 100).length).toBeGreaterThan(0)
  })
})

describe('pharma generator: calls', () => {
  it('yields exactly 40,000 calls at scale 1 with unique 18-character ids', () => {
    expect(calls).toHaveLength(40_000)
    expect(calls.filter((c) => !/^a0CACM0[0-9A-Za-z]{8}[A-Z0-5]{3}$/.test(c[0] as string))).toEqual([])
    expect(new Set(calls.map((c) => (c[0] as string).toLowerCase())).size).toBe(40_000)
  })

  it("has each call made by a rep of the HCP's territory who had been hired by then", () => {
    const byId = hcpById()
    const reps = new Map(d.reps.map((r) => [r.id, r]))
    const bad = calls.filter((c) => {
      const rep = reps.get(c[2] as string)
      return (
        !rep ||
        rep.territoryIndex !== byId.get(c[1] as string)?.territoryIndex ||
        rep.hireDate > (c[4] as string)
      )
    })
    expect(bad).toEqual([])
  })

  it('keeps channel, status, product and duration in their domains (Email lasts 0 minutes)', () => {
    const bad = calls.filter((c) => {
      const [, , , product, date, channel, status, minutes] = c as [
        string,
        string,
        string,
        string | null,
        string,
        string,
        string,
        number,
      ]
      return (
        ![null, 'ACM-P1', 'ACM-P2'].includes(product) ||
        date < '2023-01-01' ||
        date > '2024-12-31' ||
        !['In-person', 'Virtual', 'Phone', 'Email'].includes(channel) ||
        !['Completed', 'Planned', 'Cancelled'].includes(status) ||
        (channel === 'Email' ? minutes !== 0 : minutes <= 0)
      )
    })
    expect(bad).toEqual([])
    expect(calls.filter((c) => c[3] === null).length).toBeGreaterThan(0)
  })

  it('calls on segment A prescribers more often than on segment D ones', () => {
    const byId = hcpById()
    const perSegment = [0, 0, 0, 0]
    for (const c of calls) {
      const s = byId.get(c[1] as string)?.segment ?? 0
      perSegment[s] = (perSegment[s] ?? 0) + 1
    }
    expect((perSegment[0] as number) / 200).toBeGreaterThan((4 * (perSegment[3] as number)) / 800)
  })
})

describe('pharma generator: determinism', () => {
  it('generates identical data for the same prefix, seed and scale, and different data for another seed', () => {
    const small = { prefix: 'GLX', seed: 11, scale: 0.05 }
    expect(digest(small)).toBe(digest({ ...small }))
    expect(digest({ ...small, seed: 12 })).not.toBe(digest(small))
  })
})
