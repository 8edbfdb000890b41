import { type BoundHub, JSON_ROW_COLUMN, type PlanFilter, type QueryPlan, type Scalar } from '@nl2q/core'
import type { EdmType } from './edm.ts'
import { comparableValue } from './edm.ts'
import type { EntityProperty, EntitySet } from './entity-sets.ts'
import { mapFilterFields } from './filter.ts'
import { afterFilter, decodeSkipToken, encodeSkipToken, sortKeys } from './keyset.ts'
import { type Page, pageWindow } from './page.ts'
import type { QueryOptions } from './query-options.ts'

/**
 * A page of a dataset set, read through `hub.query`: the OData options become plan parts (select,
 * filter, order, limit/offset), so the policy step adds tenant scope and row policies as it does
 * for every other door. Pages after the first seek past the last key (see keyset.ts).
 */
export interface DatasetReadInput {
  /** The audited hub bound to the reader (its principal and request). */
  hub: BoundHub
  /** `null`: not the request's abort signal (a read-ahead outlives its request). */
  signal?: null
  set: EntitySet
  options: QueryOptions
  pageSize: number
  /**
   * The page will be rendered without IEEE754Compatible: ask the hub for the rows as JSON text
   * (`Page.json`), which it does when the source and every column allow.
   */
  json?: boolean
}

/**
 * Edm types whose JSON text (odata.metadata=minimal, not IEEE754Compatible) is `JSON.stringify` of
 * the value the hub returns, so a row the database wrote as JSON is served as it is.
 */
const JSON_AS_IS: ReadonlySet<EdmType> = new Set(['Edm.Int64', 'Edm.String', 'Edm.Date', 'Edm.Boolean'])

const fieldRef = (set: EntitySet, p: EntityProperty) => `${set.dataset}.${p.source}`

function property(set: EntitySet, name: string): EntityProperty {
  const p = set.properties.find((x) => x.name === name)
  if (!p) throw new Error(`unknown property ${name}`)
  return p
}

/** The plan for `$count` (and `@odata.count`): the filtered row count, ignoring paging. */
export function countPlan(set: EntitySet, filter: PlanFilter | null): QueryPlan {
  const rename = (name: string) => fieldRef(set, property(set, name))
  return {
    dataset: set.dataset as string,
    measures: [{ field: `${set.dataset}.*`, aggregation: 'count', as: 'count' }],
    dimensions: [],
    select: [],
    filter: filter ? mapFilterFields(filter, rename) : null,
    having: null,
    order: [],
    limit: null,
    offset: 0,
    distinct: false,
  }
}

export async function countDataset(
  hub: BoundHub,
  set: EntitySet,
  filter: PlanFilter | null,
  signal?: null,
): Promise<number> {
  const result = await hub.query(countPlan(set, filter), signal === null ? { signal } : {})
  return Number(result.rows[0]?.[0] ?? 0)
}

/** The plan of one page; exported so that tests can run the same plan through hub.query. */
export function pagePlan(
  set: EntitySet,
  options: QueryOptions,
  pageSize: number,
): { plan: QueryPlan; output: EntityProperty[]; read: EntityProperty[]; probe: boolean; take: number } {
  const keys = sortKeys(set, options.orderby)
  const output = options.select ? options.select.map((n) => property(set, n)) : set.properties
  const read = [...output]
  for (const k of keys) if (!read.some((p) => p.name === k.property)) read.push(property(set, k.property))
  const rename = (name: string) => fieldRef(set, property(set, name))

  const filters: PlanFilter[] = []
  if (options.filter) filters.push(options.filter)
  let offset = options.skip
  if (options.skiptoken) {
    const token = decodeSkipToken(options.skiptoken, keys)
    if (token.values) filters.push(afterFilter(keys, token.values))
    offset = 0
  }
  const filter: PlanFilter | null =
    filters.length === 0
      ? null
      : filters.length === 1
        ? (filters[0] as PlanFilter)
        : { op: 'and', args: filters }

  const { take, probe } = pageWindow(pageSize, options.top)
  const plan: QueryPlan = {
    dataset: set.dataset as string,
    measures: [],
    dimensions: [],
    select: read.map((p) => ({ field: fieldRef(set, p), as: p.name })),
    filter: filter ? mapFilterFields(filter, rename) : null,
    having: null,
    // Order by output names (the compiler orders by columns of the SELECT).
    order: keys.map((k) => ({ by: k.property, direction: k.direction })),
    limit: take + (probe ? 1 : 0),
    offset,
    distinct: false,
  }
  return { plan, output, read, probe, take }
}

export async function readDatasetPage(input: DatasetReadInput): Promise<Page> {
  const { hub, signal, set, options, pageSize } = input
  const call = signal === null ? { signal } : {}
  const { plan, output, read, probe, take } = pagePlan(set, options, pageSize)
  const json =
    input.json && output.every((p) => JSON_AS_IS.has(p.type)) ? { json: output.map((p) => p.name) } : {}
  const [result, count] = await Promise.all([
    options.top === 0 ? null : hub.query(plan, { ...call, ...json }),
    options.count ? countDataset(hub, set, options.filter, signal) : null,
  ])
  if (!result)
    return {
      properties: output,
      rows: [],
      columns: [],
      json: false,
      length: 0,
      nextToken: null,
      remainingTop: 0,
      count,
    }
  const index = new Map(result.columns.map((c, i) => [c.name, i]))
  const at = read.map((p) => index.get(p.name) ?? -1)
  // The rows are served as the hub returned them (no copy): `columns` picks each property's value.
  const length = Math.min(take, result.rows.length)
  const more = probe && result.rows.length > take

  let nextToken: string | null = null
  const last = length > 0 ? result.rows[length - 1] : undefined
  if (more && last) {
    const keys = sortKeys(set, options.orderby)
    const values: Scalar[] = keys.map((k) => {
      const i = read.findIndex((p) => p.name === k.property)
      const p = read[i] as EntityProperty
      return comparableValue(p.type, last[at[i] ?? -1])
    })
    nextToken = encodeSkipToken(keys, { values })
  }
  return {
    properties: output,
    rows: result.rows,
    columns: output.map((_, i) => at[i] ?? -1),
    json: result.columns[0]?.name === JSON_ROW_COLUMN,
    length,
    nextToken,
    remainingTop: options.top === null ? null : options.top - length,
    count,
  }
}
