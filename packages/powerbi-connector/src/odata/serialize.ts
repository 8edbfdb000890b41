import { type FormatOptions, jsonValue, NOT_PLAIN, plainWriter } from './edm.ts'
import type { EntitySet } from './entity-sets.ts'
import type { Page } from './page.ts'
import type { QueryOptions } from './query-options.ts'

/** JSON bodies of the feed (odata.metadata=minimal), written as text so numbers stay exact. */

export function serviceDocument(base: string, sets: EntitySet[]): string {
  return JSON.stringify({
    '@odata.context': `${base}/$metadata`,
    value: sets.map((s) => ({ name: s.name, kind: 'EntitySet', url: s.name, title: s.label })),
  })
}

export function contextUrl(base: string, set: EntitySet, options: QueryOptions): string {
  return `${base}/$metadata#${set.name}${options.select ? `(${options.select.join(',')})` : ''}`
}

/** The nextLink: the same filter, select and order, the rest of `$top`, and the skiptoken. */
export function nextLink(base: string, set: EntitySet, options: QueryOptions, page: Page): string | null {
  if (!page.nextToken) return null
  const parts: string[] = []
  const add = (k: string, v: string) => parts.push(`${k}=${encodeURIComponent(v)}`)
  if (options.filterText) add('$filter', options.filterText)
  if (options.selectText) add('$select', options.selectText)
  if (options.orderbyText) add('$orderby', options.orderbyText)
  if (options.count) add('$count', 'true')
  if (page.remainingTop !== null) add('$top', String(page.remainingTop))
  add('$skiptoken', page.nextToken)
  return `${base}/${set.name}?${parts.join('&')}`
}

/**
 * The rows of a page as the JSON array of `value`. Rows whose values all have a plain
 * JSON form become objects serialised by `JSON.stringify` (native, about twice as fast as joining text
 * pieces); a row with a value that has none (an exact decimal) is written piece by piece with
 * `jsonValue`. The text is the same either way. A page of plain rows only (the usual case) is one
 * `JSON.stringify` of the array, with no further copy of its text.
 */
function rowsJson(page: Page, format: FormatOptions): string {
  const { properties, columns } = page
  const names = properties.map((p) => p.name)
  const plain = properties.map((p) => plainWriter(p.type, format))
  // `__proto__` would set the prototype of a plain object instead of a key: text pieces only.
  const objects = !names.includes('__proto__')
  const parts: string[] = []
  let batch: Record<string, unknown>[] = []
  const flush = () => {
    if (batch.length > 0) parts.push(JSON.stringify(batch).slice(1, -1))
    batch = []
  }
  for (let r = 0; r < page.length; r++) {
    const row = page.rows[r] as readonly unknown[]
    let obj: Record<string, unknown> | null = objects ? {} : null
    for (let i = 0; obj && i < names.length; i++) {
      const v = (plain[i] as (v: unknown) => unknown)(row[columns[i] as number])
      if (v === NOT_PLAIN) obj = null
      else obj[names[i] as string] = v
    }
    if (obj) {
      batch.push(obj)
      continue
    }
    flush()
    parts.push(
      `{${properties.map((p, i) => `${JSON.stringify(p.name)}:${jsonValue(p.type, row[columns[i] as number], format)}`).join(',')}}`,
    )
  }
  if (parts.length === 0) return JSON.stringify(batch)
  flush()
  return `[${parts.join(',')}]`
}

export function collectionBody(
  base: string,
  set: EntitySet,
  options: QueryOptions,
  page: Page,
  format: FormatOptions,
): string {
  let body = `{"@odata.context":${JSON.stringify(contextUrl(base, set, options))}`
  if (page.count !== null)
    body += `,"@odata.count":${format.ieee754 ? JSON.stringify(String(page.count)) : page.count}`
  body += `,"value":${rowsJson(page, format)}`
  const next = nextLink(base, set, options, page)
  if (next) body += `,"@odata.nextLink":${JSON.stringify(next)}`
  return `${body}}`
}
