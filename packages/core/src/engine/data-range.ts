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
                return null
              })
          : Promise.resolve(null)
      cache.set(key, hit)
    }
    return hit
  }

  /** Warnings for the plan's date filters that reach outside the data's range. */
  async function warnings(plan: QueryPlan): Promise<string[]> {
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
    return [...new Set(out)]
  }

  return { range, warnings }
}
