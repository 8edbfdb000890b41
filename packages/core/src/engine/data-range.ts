import type { DataSource } from '../db/index.ts'
import type { SemanticModel } from './model-types.ts'
import type { PlanFilter, QueryPlan } from './plan.ts'

/**
 * Periods that fit the data: each date column's first and last value (read once per engine, i.e.
 * per tenant model, and refreshed with it), and a warning for an answer whose period lies wholly or
 * partly outside them ("data runs 2023-01-07 … 2024-12-28; 2026-01-01 … 2026-12-31 has no rows").
 * The range is read without row scopes: it says when the tenant's data starts and ends, not what
 * any row holds.
 */
export type DateRange = { min: string; max: string } | null

type Leaf = Extract<PlanFilter, { field: string }>

function dateLeaves(f: PlanFilter | null | undefined, out: Leaf[] = []): Leaf[] {
  if (!f) return out
  if (f.op === 'and' || f.op === 'or') for (const a of f.args) dateLeaves(a, out)
  else if (f.op !== 'not') out.push(f as Leaf)
  return out
}

function day(v: unknown): string | undefined {
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? undefined : v.toISOString().slice(0, 10)
  const m = /^(\d{4}-\d{2}-\d{2})/.exec(String(v ?? ''))
  return m?.[1]
}

const SLACK_DAYS: Record<string, number> = { day: 3, week: 6, month: 30, quarter: 91, year: 365 }

function shift(date: string, days: number): string {
  const d = new Date(`${date}T00:00:00Z`)
  d.setUTCDate(d.getUTCDate() + days)
  return d.toISOString().slice(0, 10)
}

type Grain = 'day' | 'week' | 'month' | 'quarter' | 'year'
const RANK: Record<Grain, number> = { day: 0, week: 1, month: 2, quarter: 3, year: 4 }

/** The first day of the period of `grain` holding `date` (weeks start on Monday, as the buckets do). */
function periodStart(date: string, grain: Grain): string {
  const [y, m] = date.split('-')
  if (grain === 'day') return date
  if (grain === 'week') {
    const dow = new Date(`${date}T00:00:00Z`).getUTCDay()
    return shift(date, -((dow + 6) % 7))
  }
  if (grain === 'month') return `${y}-${m}-01`
  if (grain === 'quarter')
    return `${y}-${String(Math.floor((Number(m) - 1) / 3) * 3 + 1).padStart(2, '0')}-01`
  return `${y}-01-01`
}

/** The first day of the period after the one starting at `start`. */
function nextStart(start: string, grain: Grain): string {
  if (grain === 'day') return shift(start, 1)
  if (grain === 'week') return shift(start, 7)
  const d = new Date(`${start}T00:00:00Z`)
  d.setUTCMonth(d.getUTCMonth() + (grain === 'month' ? 1 : grain === 'quarter' ? 3 : 12))
  return d.toISOString().slice(0, 10)
}

export function createDataRanges(ds: DataSource, model: SemanticModel) {
  const cache = new Map<string, Promise<DateRange>>()

  function range(dataset: string, field: string): Promise<DateRange> {
    const key = `${dataset}.${field}`
    let hit = cache.get(key)
    if (!hit) {
      const d = model.datasets.find((x) => x.name === dataset)
      const col = d?.fields.find((x) => x.name === field)?.column
      hit =
        d && col
          ? ds.knex
              .from(d.table)
              .min({ lo: col })
              .max({ hi: col })
              .then((rows: Record<string, unknown>[]) => {
                const lo = day(rows[0]?.lo)
                const hi = day(rows[0]?.hi)
                return lo && hi ? { min: lo, max: hi } : null
              })
              .catch(() => {
                cache.delete(key)
                // warnings worked out without this range are not kept either
                known = new WeakMap()
                return null
              })
          : Promise.resolve(null)
      cache.set(key, hit)
    }
    return hit
  }

  /**
   * The warnings of a frozen plan (the plan cache's, shared by every request asking the same
   * question), worked out once: they depend only on the plan and the ranges, which this runtime
   * keeps for its life.
   */
  let known = new WeakMap<QueryPlan, Promise<string[]>>()
  function warnings(plan: QueryPlan): Promise<string[]> {
    if (!Object.isFrozen(plan)) return warningsOf(plan)
    let found = known.get(plan)
    if (!found) {
      found = warningsOf(plan)
      known.set(plan, found)
    }
    return found
  }

  /** Warnings for the plan's date filters that reach outside the data's range. */
  async function warningsOf(plan: QueryPlan): Promise<string[]> {
    const leaves = [...dateLeaves(plan.filter), ...(plan.exists ?? []).flatMap((e) => dateLeaves(e.filter))]
    const out: string[] = []
    for (const l of leaves) {
      const [dsName = '', fieldName = ''] = l.field.split('.')
      const f = model.datasets.find((x) => x.name === dsName)?.fields.find((x) => x.name === fieldName)
      if (!f || (f.type !== 'date' && f.type !== 'datetime')) continue
      const vals = l.values ?? [l.value]
      let start: string | undefined
      let end: string | undefined
      if (l.op === 'between') [start, end] = [day(vals[0]), day(vals[1])]
      else if (l.op === 'gte' || l.op === 'gt') start = day(l.value)
      else if (l.op === 'lte' || l.op === 'lt') end = day(l.value)
      else if (l.op === 'eq') start = end = day(l.value)
      else continue
      const r = await range(dsName, fieldName)
      if (!r) continue
      // a weekly date (week ending) stands for the days before it: 2024-12-28 covers up to the 31st
      const slack = SLACK_DAYS[f.grain ?? 'day'] ?? 0
      const lo = shift(r.min, -slack)
      const hi = shift(r.max, slack)
      const period = `${start ?? '…'} … ${end ?? '…'}`
      const runs = `${f.label} data runs ${r.min} … ${r.max}`
      if ((end && end < r.min) || (start && start > r.max)) out.push(`${runs}; ${period} has no rows.`)
      else if ((start && start < lo) || (end && end > hi))
        out.push(`${runs}; ${period} is only partly covered.`)
    }
    out.push(...(await seriesEdges(plan, leaves)))
    return [...new Set(out)]
  }

  /**
   * A period-over-period series compares each period with the one before it as the rows stand; when
   * the data starts or ends inside the series' first or last period (a quarter holding four of its
   * weeks), the change next to it compares a partial period, which the answer says. A date column's
   * markers are one `grain` apart (a week for week_ending): the first period is whole when the marker
   * before the data's first falls before it, the last when the marker after the data's last falls
   * after it. Only the data's own edges: a filter's bounds are the reader's choice.
   */
  async function seriesEdges(plan: QueryPlan, leaves: Leaf[]): Promise<string[]> {
    if (!plan.change || plan.change.periods) return []
    const dim = plan.dimensions.find((d) => d.as === plan.change?.time && d.grain)
    if (!dim?.grain) return []
    const [dsName = '', fieldName = ''] = dim.field.split('.')
    const f = model.datasets.find((x) => x.name === dsName)?.fields.find((x) => x.name === fieldName)
    const native = (f?.grain ?? 'day') as Grain
    const grain = dim.grain as Grain
    if (!f || RANK[native] >= RANK[grain]) return []
    const r = await range(dsName, fieldName)
    if (!r) return []
    const on = leaves.filter((l) => l.field === dim.field)
    const bounded = (side: 'start' | 'end') =>
      on.some((l) =>
        side === 'start'
          ? l.op === 'gt' || l.op === 'gte' || l.op === 'between'
          : l.op === 'lt' || l.op === 'lte' || l.op === 'between',
      )
    const step = native === 'week' ? 7 : 1
    const out: string[] = []
    const first = periodStart(r.min, grain)
    if (!bounded('start') && shift(r.min, -step) >= first)
      out.push(
        `${f.label} data starts ${r.min}, inside the ${grain} of ${first}: that ${grain} holds only part of its rows, so the change from it is not like for like.`,
      )
    const last = periodStart(r.max, grain)
    if (!bounded('end') && shift(r.max, step) < nextStart(last, grain))
      out.push(
        `${f.label} data ends ${r.max}, inside the ${grain} of ${last}: that ${grain} holds only part of its rows, so its change is not like for like.`,
      )
    return out
  }

  return { range, warnings }
}
