import type { PlanFilter, Scalar } from '@nl2q/core'
import type { SortKey } from './keyset.ts'

/**
 * In-memory evaluation of a plan filter and a sort, for saved-question sets: their rows are the
 * hub's answer to the question (already through plan → policy → compile), so `$filter` and
 * `$orderby` narrow that answer rather than start a new query. Comparisons with null are false
 * (OData semantics); strings compare by code point.
 */
export type RowValues = Record<string, Scalar>

function compare(a: Scalar, b: Scalar): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b)
  const x = String(a)
  const y = String(b)
  return x < y ? -1 : x > y ? 1 : 0
}

export function matches(filter: PlanFilter, row: RowValues): boolean {
  switch (filter.op) {
    case 'and':
      return (filter as { args: PlanFilter[] }).args.every((f) => matches(f, row))
    case 'or':
      return (filter as { args: PlanFilter[] }).args.some((f) => matches(f, row))
    case 'not':
      return !matches((filter as { arg: PlanFilter }).arg, row)
  }
  const f = filter as { op: string; field: string; value?: Scalar; values?: Scalar[] }
  const v = row[f.field] ?? null
  if (f.op === 'is_null') return v === null
  if (f.op === 'not_null') return v !== null
  if (v === null) return false
  const value = f.value ?? null
  switch (f.op) {
    case 'in':
      return (f.values ?? []).some((x) => x !== null && compare(v, x) === 0)
    case 'not_in':
      return !(f.values ?? []).some((x) => x !== null && compare(v, x) === 0)
    case 'contains':
      return String(v).includes(String(value))
    case 'startswith':
      return String(v).startsWith(String(value))
    case 'endswith':
      return String(v).endsWith(String(value))
  }
  if (value === null) return false
  const c = compare(v, value)
  switch (f.op) {
    case 'eq':
      return c === 0
    case 'ne':
      return c !== 0
    case 'gt':
      return c > 0
    case 'gte':
      return c >= 0
    case 'lt':
      return c < 0
    case 'lte':
      return c <= 0
    default:
      return false
  }
}

/** Sort with the same null placement as the databases: nulls first ascending, last descending. */
export function sortRows<T>(rows: T[], keys: SortKey[], valuesOf: (row: T) => RowValues): T[] {
  return [...rows].sort((ra, rb) => {
    const a = valuesOf(ra)
    const b = valuesOf(rb)
    for (const k of keys) {
      const x = a[k.property] ?? null
      const y = b[k.property] ?? null
      let c: number
      if (x === null && y === null) c = 0
      else if (x === null) c = -1
      else if (y === null) c = 1
      else c = compare(x, y)
      if (c !== 0) return k.direction === 'asc' ? c : -c
    }
    return 0
  })
}
