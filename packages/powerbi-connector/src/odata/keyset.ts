import { HubError, type PlanFilter, type Scalar } from '@nl2q/core'
import type { EntitySet } from './entity-sets.ts'
import type { OrderItem } from './odata-syntax.ts'

/**
 * Keyset (seek) pagination. Every page is ordered by the requested `$orderby` plus the key as a
 * tie-breaker, so the order is total; the nextLink's opaque `$skiptoken` carries the sort values of
 * the last row served, and the next page asks the plan for the rows strictly after them — no OFFSET
 * over millions of rows, and no row is served twice or lost between pages.
 *
 * NULLs sort first ascending and last descending (MySQL/MariaDB and SQLite, the hub's dialects).
 */
export interface SortKey {
  property: string
  direction: 'asc' | 'desc'
}

export function sortKeys(set: EntitySet, orderby: OrderItem[]): SortKey[] {
  const keys: SortKey[] = orderby.map((o) => ({ property: o.property, direction: o.direction }))
  for (const k of set.key)
    if (!keys.some((s) => s.property === k)) keys.push({ property: k, direction: 'asc' })
  return keys
}

/** `column` sorts strictly after `value` in `direction` (null-aware). null = no row can. */
function after(key: SortKey, value: Scalar): PlanFilter | null {
  const field = key.property
  if (key.direction === 'asc') return value === null ? { op: 'not_null', field } : { op: 'gt', field, value }
  if (value === null) return null
  return {
    op: 'or',
    args: [
      { op: 'lt', field, value },
      { op: 'is_null', field },
    ],
  }
}

function equal(field: string, value: Scalar): PlanFilter {
  return value === null ? { op: 'is_null', field } : { op: 'eq', field, value }
}

/**
 * Rows after `values` in the order of `keys`: (k1 after v1) or (k1 = v1 and k2 after v2) or …
 * Fields are property names. Returns a filter that matches nothing when no row can follow.
 */
export function afterFilter(keys: SortKey[], values: Scalar[]): PlanFilter {
  const branches: PlanFilter[] = []
  keys.forEach((key, i) => {
    const tail = after(key, values[i] ?? null)
    if (!tail) return
    const prefix = keys.slice(0, i).map((k, j) => equal(k.property, values[j] ?? null))
    branches.push(prefix.length === 0 ? tail : { op: 'and', args: [...prefix, tail] })
  })
  const first = keys[0]?.property ?? ''
  if (branches.length === 0)
    return {
      op: 'and',
      args: [
        { op: 'is_null', field: first },
        { op: 'not_null', field: first },
      ],
    }
  return branches.length === 1 ? (branches[0] as PlanFilter) : { op: 'or', args: branches }
}

interface TokenBody {
  /** Sort signature: the token is only valid for the same order. */
  s: string
  /** Keyset: the last row's sort values. */
  v?: Scalar[]
  /** Offset (saved-question sets, whose answers have no key of their own). */
  o?: number
}

const signature = (keys: SortKey[]) => keys.map((k) => `${k.property} ${k.direction}`).join(',')

export function encodeSkipToken(keys: SortKey[], body: { values?: Scalar[]; offset?: number }): string {
  const t: TokenBody = { s: signature(keys) }
  if (body.values) t.v = body.values
  if (body.offset !== undefined) t.o = body.offset
  return Buffer.from(JSON.stringify(t)).toString('base64url')
}

const isScalar = (v: unknown): v is Scalar =>
  v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean'

/** Decode a `$skiptoken` made by encodeSkipToken for the same order (400 otherwise). */
export function decodeSkipToken(token: string, keys: SortKey[]): { values?: Scalar[]; offset?: number } {
  const invalid = () => new HubError('BAD_REQUEST', '$skiptoken is not valid for this request')
  let body: TokenBody
  try {
    body = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as TokenBody
  } catch (cause) {
    throw new HubError('BAD_REQUEST', '$skiptoken is not valid for this request', { cause })
  }
  if (!body || typeof body !== 'object' || body.s !== signature(keys)) throw invalid()
  if (body.v !== undefined) {
    if (!Array.isArray(body.v) || body.v.length !== keys.length || !body.v.every(isScalar)) throw invalid()
    return { values: body.v }
  }
  if (typeof body.o === 'number' && Number.isSafeInteger(body.o) && body.o >= 0) return { offset: body.o }
  throw invalid()
}
