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

type RowObject = (
  row: readonly unknown[],
  columns: readonly number[],
  plain: readonly ((v: unknown) => unknown)[],
) => Record<string, unknown> | null

const rowObjects = new Map<string, RowObject>()

/**
 * A function that turns a source row into the object of its plain values, or null when one value
 * has no plain form. Generated per list of property names so that every object is made from one
 * object literal: all rows share a hidden class, and building them costs about a third of assigning
 * keys one by one (a 10,000-row page renders ~25% faster). Only the names enter the code, each as a
 * `JSON.stringify`d string literal; `__proto__` and integer-like names never do (see rowsJson).
 */
function rowObject(names: readonly string[]): RowObject {
  const key = JSON.stringify(names)
  let make = rowObjects.get(key)
  if (make) return make
  const reads = names.map(
    (_, i) => `const v${i} = plain[${i}](row[columns[${i}]]); if (v${i} === NOT_PLAIN) return null;`,
  )
  const literal = names.map((n, i) => `${JSON.stringify(n)}: v${i}`).join(', ')
  make = new Function(
    'NOT_PLAIN',
    `return (row, columns, plain) => { ${reads.join(' ')} return { ${literal} } }`,
  )(NOT_PLAIN) as RowObject
  if (rowObjects.size >= 256) rowObjects.delete(rowObjects.keys().next().value as string)
  rowObjects.set(key, make)
  return make
}

/**
 * The rows of a page as the JSON array of `value`. Rows whose values all have a plain
 * JSON form become objects serialised by `JSON.stringify` (native, about twice as fast as joining text
 * pieces); a row with a value that has none (an exact decimal) is written piece by piece with
 * `jsonValue`. The text is the same either way. A page of plain rows only (the usual case) is one
 * `JSON.stringify` of the array, with no further copy of its text.
 */
function rowsJson(page: Page, format: FormatOptions): string {
  if (page.json) {
    const texts = new Array<string>(page.length)
    for (let r = 0; r < page.length; r++) texts[r] = jsonRow(page, r).toString('utf8')
    return `[${texts.join(',')}]`
  }
  const { properties, columns } = page
  const names = properties.map((p) => p.name)
  const plain = properties.map((p) => plainWriter(p.type, format))
  // `__proto__` in an object literal sets the prototype instead of a key, and integer-like keys are
  // serialised before the others whatever their place: text pieces only for those.
  const make = names.some((n) => n === '__proto__' || /^(0|[1-9]\d*)$/.test(n)) ? null : rowObject(names)
  const parts: string[] = []
  let batch: Record<string, unknown>[] = []
  const flush = () => {
    if (batch.length > 0) parts.push(JSON.stringify(batch).slice(1, -1))
    batch = []
  }
  for (let r = 0; r < page.length; r++) {
    const row = page.rows[r] as readonly unknown[]
    const obj = make ? make(row, columns, plain) : null
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

/** Row r of a page read as JSON rows: its object's UTF-8 bytes, as the hub returned them. */
const jsonRow = (page: Page, r: number) => (page.rows[r] as readonly unknown[])[0] as Buffer

/** The body before the rows' array and after it. */
function envelope(
  base: string,
  set: EntitySet,
  options: QueryOptions,
  page: Page,
  format: FormatOptions,
): { head: string; tail: string } {
  let head = `{"@odata.context":${JSON.stringify(contextUrl(base, set, options))}`
  if (page.count !== null)
    head += `,"@odata.count":${format.ieee754 ? JSON.stringify(String(page.count)) : page.count}`
  const next = nextLink(base, set, options, page)
  return { head: `${head},"value":`, tail: next ? `,"@odata.nextLink":${JSON.stringify(next)}}` : '}' }
}

export function collectionBody(
  base: string,
  set: EntitySet,
  options: QueryOptions,
  page: Page,
  format: FormatOptions,
): string {
  const { head, tail } = envelope(base, set, options, page, format)
  return `${head}${rowsJson(page, format)}${tail}`
}

/**
 * The body as UTF-8 bytes (what the response sends). A page of JSON rows is assembled by copying each
 * row's bytes into one buffer: no row is decoded, rendered or encoded here.
 */
export function collectionBytes(
  base: string,
  set: EntitySet,
  options: QueryOptions,
  page: Page,
  format: FormatOptions,
): Buffer<ArrayBuffer> {
  if (!page.json) return Buffer.from(collectionBody(base, set, options, page, format))
  const { head, tail } = envelope(base, set, options, page, format)
  const open = Buffer.from(`${head}[`)
  const close = Buffer.from(`]${tail}`)
  let size = open.length + close.length + Math.max(0, page.length - 1)
  for (let r = 0; r < page.length; r++) size += jsonRow(page, r).length
  const out = Buffer.allocUnsafe(size)
  let at = open.copy(out, 0)
  for (let r = 0; r < page.length; r++) {
    if (r > 0) out[at++] = 0x2c // ,
    const row = jsonRow(page, r)
    out.set(row, at)
    at += row.length
  }
  close.copy(out, at)
  return out
}
