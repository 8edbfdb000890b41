/**
 * The fact tables — prescriptions and calls — generated as a stream of per-HCP chunks so that
 * scale 20 (≈ 6 M rows) never sits in memory. Each table draws from its own seeded stream.
 */

import { CALL_DAYS, WEEKS } from './calendar.ts'
import {
  CHANNEL_DURATIONS,
  CHANNEL_MIX_BY_YEAR,
  CHANNELS,
  NINETY_DAY_SHARE,
  PAYERS,
  SEGMENT_CALL_FOCUS,
  SPECIALTY_SPECS,
  STATUSES,
} from './catalog.ts'
import {
  type Dimensions,
  type GeneratorOptions,
  type Hcp,
  REPS_PER_TERRITORY,
  type Row,
} from './dimensions.ts'
import { crmTag, salesforceId, scrambleFrom } from './ids.ts'
import { Categorical, Random } from './prng.ts'

export const callCount = (scale: number): number => Math.max(1, Math.round(40_000 * scale))

/** Company products gain this much relative preference by the end of 2024 (competitors lose a little). */
const CAMPAIGN_LIFT = 0.35
const COMPETITOR_EROSION = 0.05
/** Chance that a prescriber who did not write a company product starts to during 2024. */
const NEW_WRITER_2024 = 0.18
/** High-value prescribers write a broader range of products. */
const ADOPTION_BY_SEGMENT = [1.25, 1.1, 1.0, 0.85]
const SYNTHROID = 2

interface Writing {
  product: number
  preference: number
  /** Index of the first week the prescriber writes it (0, or a 2024 week for a new writer). */
  startWeek: number
  company: boolean
}

function productsWritten(h: Hcp, d: Dimensions, rng: Random): Writing[] {
  const out: Writing[] = []
  d.products.forEach(({ spec }, product) => {
    const base = spec.adoptionBySpecialty?.[h.specialty] ?? spec.adoption
    const p = Math.min(0.95, base * (ADOPTION_BY_SEGMENT[h.segment] ?? 1))
    const preference = spec.preference * rng.lognormal(0, 0.5)
    const company = spec.isCompanyProduct
    if (rng.chance(p)) out.push({ product, preference, startWeek: 0, company })
    else if (company && rng.chance(NEW_WRITER_2024))
      out.push({ product, preference, startWeek: rng.int(52, 100), company })
  })
  if (!out.some((w) => w.startWeek === 0))
    out.push({ product: SYNTHROID, preference: 1, startWeek: 0, company: false })
  return out
}

/** Weekly prescribing facts, one chunk of rows per HCP. Row order: the `prescriptions` columns. */
export function* prescriptionChunks(d: Dimensions, opts: GeneratorOptions): Generator<Row[]> {
  const rng = new Random(opts.seed, 'prescriptions')
  let rxId = 0
  const counts = [0, 0, 0, 0]
  for (const h of d.hcps) {
    const spec = SPECIALTY_SPECS[h.specialty]
    const payerPick = new Categorical(spec.payerMix.map((w) => w * rng.lognormal(0, 0.3)))
    const writes = productsWritten(h, d, rng)
    const weights = new Float64Array(writes.length)
    const rows: Row[] = []
    for (const week of WEEKS) {
      let total = 0
      writes.forEach((w, i) => {
        const lift = w.company
          ? 1 + CAMPAIGN_LIFT * week.campaignProgress
          : 1 - COMPETITOR_EROSION * week.campaignProgress
        weights[i] = week.index >= w.startWeek ? w.preference * lift : 0
        total += weights[i] as number
      })
      const volume = h.potential * week.season * (1 + (0.015 * week.index) / 52)
      for (let i = 0; i < writes.length; i++) {
        const w = writes[i] as Writing
        const scripts = rng.poisson((volume * (weights[i] as number)) / total)
        if (scripts === 0) continue
        counts.fill(0)
        for (let s = 0; s < scripts; s++) (counts[payerPick.sample(rng)] as number)++
        const newShare =
          0.22 +
          (w.company ? 0.12 * week.campaignProgress : 0) +
          (w.startWeek > 0 && week.index - w.startWeek < 8 ? 0.4 : 0)
        const productId = d.products[w.product]?.id ?? null
        for (let k = 0; k < PAYERS.length; k++) {
          const trx = counts[k] as number
          if (trx === 0) continue
          const nrx = rng.binomial(trx, newShare)
          const ninetyDay = rng.binomial(trx, NINETY_DAY_SHARE[k] as number)
          rows.push([
            ++rxId,
            h.id,
            productId,
            week.ending,
            PAYERS[k] as string,
            trx,
            nrx,
            30 * trx + 60 * ninetyDay,
          ])
        }
      }
    }
    yield rows
  }
}

/** Spread `total` over items in proportion to their weights, exactly (cumulative rounding). */
export function apportion(weights: readonly number[], total: number): number[] {
  const sum = weights.reduce((a, b) => a + b, 0)
  let cumulative = 0
  let given = 0
  return weights.map((w, i) => {
    cumulative += w
    const upTo = i === weights.length - 1 ? total : Math.round((total * cumulative) / sum)
    const share = upTo - given
    given = upTo
    return share
  })
}

/** CRM call activity, one chunk of rows per HCP. Row order: the `calls` columns. */
export function* callChunks(d: Dimensions, opts: GeneratorOptions): Generator<Row[]> {
  const rng = new Random(opts.seed, 'calls')
  const quotas = apportion(
    d.hcps.map(
      (h) =>
        (SEGMENT_CALL_FOCUS[h.segment] ?? 1) * SPECIALTY_SPECS[h.specialty].callFocus * rng.lognormal(0, 0.3),
    ),
    callCount(opts.scale),
  )
  const dayPick = new Categorical(CALL_DAYS.map((day) => day.weight))
  const channelPick = new Map(
    Object.entries(CHANNEL_MIX_BY_YEAR).map(([y, mix]) => [Number(y), new Categorical(mix)]),
  )
  const productPick = new Categorical([0.55, 0.3, 0.15])
  const pediatricProductPick = new Categorical([0.3, 0.55, 0.15])
  const scramble = scrambleFrom(rng.u32(), rng.u32())
  const tag = crmTag(opts.prefix)
  const [tirosint, tirosintSol] = d.products
  let k = 0
  for (let i = 0; i < d.hcps.length; i++) {
    const h = d.hcps[i] as Hcp
    const quota = quotas[i] ?? 0
    if (quota === 0) continue
    const days = Array.from({ length: quota }, () => dayPick.sample(rng)).sort((a, b) => a - b)
    const rows: Row[] = []
    for (const dayIndex of days) {
      const day = CALL_DAYS[dayIndex] as (typeof CALL_DAYS)[number]
      const slot = rng.chance(0.85) ? h.repSlot : 1 - h.repSlot
      let rep = d.reps[h.territoryIndex * REPS_PER_TERRITORY + slot]
      // A rep who had not joined yet cannot have made the call: the territory partner did.
      if (rep && rep.hireDate > day.date) rep = d.reps[h.territoryIndex * REPS_PER_TERRITORY + (1 - slot)]
      const product = (h.specialty === 'Pediatrics' ? pediatricProductPick : productPick).sample(rng)
      const channel = (channelPick.get(day.year) as Categorical).sample(rng)
      const status =
        day.date >= '2024-12-16'
          ? rng.chance(0.75)
            ? 1
            : rng.chance(0.8)
              ? 0
              : 2
          : rng.chance(0.9)
            ? 0
            : rng.chance(0.3)
              ? 1
              : 2
      rows.push([
        salesforceId('a0C', tag, k++, scramble),
        h.id,
        rep?.id ?? null,
        product === 0 ? (tirosint?.id ?? null) : product === 1 ? (tirosintSol?.id ?? null) : null,
        day.date,
        CHANNELS[channel] as string,
        STATUSES[status] as string,
        rng.pick(CHANNEL_DURATIONS[channel] ?? [0]),
      ])
    }
    yield rows
  }
}
