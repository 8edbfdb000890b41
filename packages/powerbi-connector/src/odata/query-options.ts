import { HubError, type PlanFilter } from '@nl2q/core'
import type { EntitySet } from './entity-sets.ts'
import { parseFilter } from './filter.ts'
import { type OrderItem, parseOrderBySyntax, parseSelectSyntax } from './odata-syntax.ts'

/** The system query options of one request, parsed and checked against the entity set. */
export interface QueryOptions {
  filter: PlanFilter | null
  /** Raw texts, carried into the nextLink unchanged. */
  filterText: string | null
  orderbyText: string | null
  selectText: string | null
  /** Selected property names, or null for all. */
  select: string[] | null
  orderby: OrderItem[]
  top: number | null
  skip: number
  count: boolean
  skiptoken: string | null
}

/** Options the feed does not implement: a clear 501, never silently ignored. */
const NOT_IMPLEMENTED = new Set([
  '$apply',
  '$expand',
  '$search',
  '$compute',
  '$levels',
  '$index',
  '$schemaversion',
  '$deltatoken',
  '$id',
])
const KNOWN = new Set(['$filter', '$select', '$orderby', '$top', '$skip', '$count', '$skiptoken', '$format'])

const bad = (message: string) => new HubError('BAD_REQUEST', message)

function nonNegativeInt(name: string, raw: string): number {
  if (!/^\d{1,15}$/.test(raw.trim())) throw bad(`${name} must be a non-negative integer`)
  return Number(raw.trim())
}

/** Reject unsupported or repeated system options (applies to every resource of the feed). */
export function checkSystemOptions(params: URLSearchParams): void {
  const seen = new Set<string>()
  for (const key of params.keys()) {
    if (key.startsWith('@'))
      throw new HubError('NOT_IMPLEMENTED', 'Parameter aliases are not supported', { status: 501 })
    if (!key.startsWith('$')) continue // custom query options are allowed and ignored (OData 4.0 §5.2)
    const name = key.toLowerCase()
    if (NOT_IMPLEMENTED.has(name))
      throw new HubError(
        'NOT_IMPLEMENTED',
        `The system query option ${key} is not supported by this service`,
        {
          status: 501,
        },
      )
    if (!KNOWN.has(name)) throw bad(`Unknown system query option ${key}`)
    if (seen.has(name)) throw bad(`The system query option ${key} is given more than once`)
    seen.add(name)
  }
}

function option(params: URLSearchParams, name: string): string | null {
  for (const [k, v] of params) if (k.toLowerCase() === name) return v
  return null
}

export function parseQueryOptions(set: EntitySet, params: URLSearchParams): QueryOptions {
  checkSystemOptions(params)
  const filterText = option(params, '$filter')
  const selectText = option(params, '$select')
  const orderbyText = option(params, '$orderby')
  const topText = option(params, '$top')
  const skipText = option(params, '$skip')
  const countText = option(params, '$count')
  const names = new Set(set.properties.map((p) => p.name))

  let select: string[] | null = null
  if (selectText !== null && selectText.trim() !== '') {
    const items = parseSelectSyntax(selectText)
    if (items !== '*' && !items.includes('*')) {
      for (const p of items) if (!names.has(p)) throw bad(`$select: '${p}' is not a property of ${set.name}`)
      select = [...new Set(items)]
    }
  }
  const orderby = orderbyText && orderbyText.trim() !== '' ? parseOrderBySyntax(orderbyText) : []
  for (const o of orderby)
    if (!names.has(o.property)) throw bad(`$orderby: '${o.property}' is not a property of ${set.name}`)
  if (countText !== null && !['true', 'false'].includes(countText.trim()))
    throw bad('$count must be true or false')

  return {
    filter: filterText && filterText.trim() !== '' ? parseFilter(set, filterText) : null,
    filterText: filterText && filterText.trim() !== '' ? filterText : null,
    orderbyText: orderby.length > 0 ? orderbyText : null,
    selectText: select ? selectText : null,
    select,
    orderby,
    top: topText === null ? null : nonNegativeInt('$top', topText),
    skip: skipText === null ? 0 : nonNegativeInt('$skip', skipText),
    count: countText?.trim() === 'true',
    skiptoken: option(params, '$skiptoken'),
  }
}
