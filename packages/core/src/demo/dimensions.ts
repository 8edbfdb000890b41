/**
 * The small tables of the demo — territories, reps, HCPs, products — generated in memory (the
 * largest, hcps, is 2,000 × scale rows) because the fact generators need them to draw from.
 */

import {
  PRODUCTS,
  type ProductSpec,
  SEGMENT_SHARES,
  SEGMENTS,
  SPECIALTIES,
  SPECIALTY_SPECS,
  type Specialty,
} from './catalog.ts'
import { TERRITORIES, type TerritorySpec } from './geography.ts'
import { crmTag, hcpId, npi, productId, repId, salesforceId, scrambleFrom, territoryId } from './ids.ts'
import { FIRST_NAMES, LAST_NAMES } from './names.ts'
import { Categorical, Random } from './prng.ts'

export interface GeneratorOptions {
  prefix: string
  seed: number
  /** Multiplies hcps, prescriptions and calls; fractional values (e.g. 0.05) make small test databases. */
  scale: number
}

export type Row = (string | number | null)[]

export interface Territory {
  id: string
  spec: TerritorySpec
}

export interface Rep {
  id: string
  name: string
  territoryIndex: number
  hireDate: string
  email: string
}

export interface Hcp {
  id: string
  npi: string
  firstName: string
  lastName: string
  specialty: Specialty
  city: string
  state: string
  territoryIndex: number
  /** 0..3 for A..D. */
  segment: number
  crmAccountId: string
  /** Median weekly thyroid TRx this prescriber would write (the basis of the segment). */
  potential: number
  /** Which of the territory's two reps (0 or 1) owns the relationship. */
  repSlot: number
}

export interface Product {
  id: string
  spec: ProductSpec
}

export interface Dimensions {
  territories: Territory[]
  reps: Rep[]
  hcps: Hcp[]
  products: Product[]
}

export const REPS_PER_TERRITORY = 2
export const hcpCount = (scale: number): number => Math.max(1, Math.round(2000 * scale))

/** Tunes the overall prescribing volume so that scale 1 yields about 300,000 prescription rows. */
export const VOLUME_CALIBRATION = 0.28

function generateReps(prefix: string, rng: Random): Rep[] {
  const reps: Rep[] = []
  const emails = new Set<string>()
  const domain = `${prefix.toLowerCase()}-pharma.example`
  TERRITORIES.forEach((_, t) => {
    for (let slot = 0; slot < REPS_PER_TERRITORY; slot++) {
      const first = rng.pick(FIRST_NAMES)
      const last = rng.pick(LAST_NAMES)
      const local = `${first}.${last}`.toLowerCase().replace(/[^a-z.]/g, '')
      let email = `${local}@${domain}`
      for (let k = 2; emails.has(email); k++) email = `${local}${k}@${domain}`
      emails.add(email)
      // The senior rep of each territory predates the data; the second may have joined during it.
      const hire =
        slot === 0
          ? rng.int(Date.UTC(2009, 0, 1), Date.UTC(2021, 11, 31))
          : rng.int(Date.UTC(2012, 0, 1), Date.UTC(2024, 5, 30))
      reps.push({
        id: repId(prefix, reps.length + 1),
        name: `${first} ${last}`,
        territoryIndex: t,
        hireDate: new Date(hire - (hire % 86_400_000)).toISOString().slice(0, 10),
        email,
      })
    }
  })
  return reps
}

function generateHcps(prefix: string, scale: number, rng: Random): Hcp[] {
  const n = hcpCount(scale)
  const territoryPick = new Categorical(TERRITORIES.map((t) => t.weight))
  const cityPicks = TERRITORIES.map((t) => new Categorical(t.cities.map((c) => c.weight)))
  const specialtyPick = new Categorical(SPECIALTIES.map((s) => SPECIALTY_SPECS[s].weight))
  const npiScramble = scrambleFrom(rng.u32(), rng.u32())
  const crmScramble = scrambleFrom(rng.u32(), rng.u32())
  const tag = crmTag(prefix)
  const hcps: Hcp[] = []
  for (let i = 0; i < n; i++) {
    const territoryIndex = territoryPick.sample(rng)
    const city = TERRITORIES[territoryIndex]?.cities[cityPicks[territoryIndex]?.sample(rng) ?? 0]
    const specialty = SPECIALTIES[specialtyPick.sample(rng)] as Specialty
    hcps.push({
      id: hcpId(prefix, i + 1),
      npi: npi(i, npiScramble),
      firstName: rng.pick(FIRST_NAMES),
      lastName: rng.pick(LAST_NAMES),
      specialty,
      city: city?.city ?? '',
      state: city?.state ?? '',
      territoryIndex,
      segment: 3,
      crmAccountId: salesforceId('001', tag, i, crmScramble),
      potential: VOLUME_CALIBRATION * rng.lognormal(Math.log(SPECIALTY_SPECS[specialty].weeklyTrx), 0.75),
      repSlot: rng.chance(0.55) ? 0 : 1,
    })
  }
  // Segments are deciles of potential: A is the top 10%, B the next 20%, C 30%, D the rest.
  const byPotential = [...hcps].sort((a, b) => b.potential - a.potential)
  let rank = 0
  let bound = 0
  SEGMENT_SHARES.forEach((share, segment) => {
    bound = segment === SEGMENTS.length - 1 ? n : bound + Math.round(share * n)
    for (; rank < bound && rank < n; rank++) (byPotential[rank] as Hcp).segment = segment
  })
  return hcps
}

export function generateDimensions(opts: GeneratorOptions): Dimensions {
  const { prefix, seed, scale } = opts
  return {
    territories: TERRITORIES.map((spec, i) => ({ id: territoryId(prefix, i + 1), spec })),
    reps: generateReps(prefix, new Random(seed, 'reps')),
    hcps: generateHcps(prefix, scale, new Random(seed, 'hcps')),
    products: PRODUCTS.map((spec, i) => ({ id: productId(prefix, i + 1), spec })),
  }
}

export const territoryRow = (t: Territory): Row => [t.id, t.spec.name, t.spec.region, t.spec.district]

export const repRow = (r: Rep, d: Dimensions): Row => [
  r.id,
  r.name,
  d.territories[r.territoryIndex]?.id ?? null,
  r.hireDate,
  r.email,
]

export const hcpRow = (h: Hcp, d: Dimensions): Row => [
  h.id,
  h.npi,
  h.firstName,
  h.lastName,
  h.specialty,
  h.city,
  h.state,
  d.territories[h.territoryIndex]?.id ?? null,
  SEGMENTS[h.segment] ?? 'D',
  h.crmAccountId,
]

export const productRow = (p: Product): Row => [
  p.id,
  p.spec.name,
  p.spec.manufacturer,
  p.spec.therapeuticArea,
  p.spec.isCompanyProduct ? 1 : 0,
  p.spec.launchDate,
  p.spec.listPrice,
]
