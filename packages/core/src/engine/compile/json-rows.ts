import type { Dialect } from '../../db/index.ts'
import type { Field } from '../model-types.ts'
import type { QueryPlan } from '../plan.ts'
import type { ResultColumn } from '../results.ts'

/**
 * Rows rendered as JSON text by the database (MySQL/MariaDB), for bulk reads whose consumer writes
 * JSON anyway (the OData feed). Instead of the N output columns, the query returns one column holding
 * each row's JSON object as UTF-8 bytes (a Buffer: the server sends it as binary, so the driver
 * neither decodes it nor does the consumer encode it again), followed by the plan's order columns as
 * usual (a keyset reader needs the last row's sort values). The text is exactly what
 * `JSON.stringify` writes for the row as the hub would otherwise return it, keys in the order asked
 * for: the driver hands over one buffer per row instead of decoding N values, and the consumer
 * copies bytes instead of rendering values.
 *
 * Exactness is promised only for columns whose declared type fixes what the driver returns and
 * whose model type keeps it (integer types as `integer` or `boolean`, text types as `string`, DATE
 * as `date`); anything else (decimals, floats, datetimes, zerofill, binary, unknown declared type)
 * leaves the plan on the ordinary path. Two cases the database writes differently are marked and
 * rewritten by the engine (`canonicalJsonRow`): a BIGINT outside ±(2^53 − 1), which the hub returns
 * as the nearest double, and a control character that JSON_QUOTE escapes with upper-case hex digits.
 */

/** The name of the JSON column in a result read with `json` (never a model field: `@` is not in identifiers). */
export const JSON_ROW_COLUMN = '@json'

/** Prefix of a row text the engine must rewrite through JSON.parse → JSON.stringify (see above). */
export const NOT_CANONICAL = '!'
const NOT_CANONICAL_BYTE = NOT_CANONICAL.charCodeAt(0)

const INTEGER = /^(tinyint|smallint|mediumint|int|integer|bigint)(\(\d+\))?( unsigned)?$/
const TEXT = /^((var)?char\(\d+\)|(tiny|medium|long)?text|enum\(.*\)|set\(.*\))$/
const MAX_SAFE = '9007199254740991'

interface Frag {
  sql: string
  b: unknown[]
}

interface JsonValue {
  /** The value's JSON text (never NULL). */
  value: Frag
  /** True when the database writes this value exactly as JSON.stringify does (else the row is marked). */
  exact: Frag | null
}

/** One column's JSON text, or null when the database cannot promise JSON.stringify's text for it. */
function jsonValue(f: Field, column: Frag, nullable: boolean): JsonValue | null {
  const raw = f.rawType?.trim().toLowerCase() ?? ''
  const orNull = (sql: string): Frag =>
    nullable ? { sql: `COALESCE(${sql}, 'null')`, b: [...column.b] } : { sql, b: [...column.b] }
  if (INTEGER.test(raw) && f.type === 'integer') {
    const exact = raw.startsWith('bigint')
      ? {
          sql: `(${nullable ? `${column.sql} IS NULL OR ` : ''}${column.sql} BETWEEN -${MAX_SAFE} AND ${MAX_SAFE})`,
          b: nullable ? [...column.b, ...column.b] : [...column.b],
        }
      : null
    return { value: orNull(column.sql), exact }
  }
  if (INTEGER.test(raw) && f.type === 'boolean')
    // IF(NULL <> 0, …) is 'false': NULL is tested first
    return {
      value: {
        sql: `CASE WHEN ${column.sql} IS NULL THEN 'null' WHEN ${column.sql} <> 0 THEN 'true' ELSE 'false' END`,
        b: [...column.b, ...column.b],
      },
      exact: null,
    }
  if (TEXT.test(raw) && f.type === 'string')
    return { value: orNull(`JSON_QUOTE(${column.sql})`), exact: null }
  if (raw === 'date' && f.type === 'date')
    return { value: orNull(`CONCAT('"', ${column.sql}, '"')`), exact: null }
  return null
}

export interface JsonRowsSelect {
  /** The select list: the JSON column, then the order columns. */
  selects: Frag[]
  columns: ResultColumn[]
  /** Some row may hold a control character (text columns): the engine checks for JSON_QUOTE's hex. */
  text: boolean
}

/**
 * The select list of a plain-rows plan read with `json` (the output names whose values make each
 * row's object, in order), or null when the plan or a column does not qualify. Every output name of
 * the plan must be either in `json` or an order column. `select` gives each output's field and
 * column expression, `root` the plan's dataset.
 */
export function jsonRowsSelect(
  dialect: Dialect,
  plan: QueryPlan,
  json: readonly string[],
  select: ReadonlyMap<string, { f: Field; frag: Frag; column: ResultColumn }>,
): JsonRowsSelect | null {
  if (dialect !== 'mysql' || json.length === 0) return null
  if (plan.measures.length > 0 || plan.dimensions.length > 0 || plan.distinct) return null
  if (plan.rollup || plan.rankWithin || plan.change || plan.share) return null
  const ordered = new Set(plan.order.map((o) => o.by))
  const wanted = new Set(json)
  if (wanted.size !== json.length || select.has(JSON_ROW_COLUMN)) return null
  for (const name of select.keys()) if (!wanted.has(name) && !ordered.has(name)) return null
  const pieces: Frag[] = []
  const exact: Frag[] = []
  let literal = '{'
  let text = false
  for (const [i, name] of json.entries()) {
    // `__proto__` and integer-like keys: JSON.parse/stringify would not keep them where they are.
    if (name === '__proto__' || /^(0|[1-9]\d*)$/.test(name)) return null
    const s = select.get(name)
    if (!s) return null
    const v = jsonValue(s.f, s.frag, s.f.nullable !== false || s.f.dataset !== plan.dataset)
    if (!v) return null
    if (TEXT.test(s.f.rawType?.trim().toLowerCase() ?? '')) text = true
    literal += `${i > 0 ? ',' : ''}${JSON.stringify(name)}:`
    pieces.push({ sql: '?', b: [literal] }, v.value)
    literal = ''
    if (v.exact) exact.push(v.exact)
  }
  pieces.push({ sql: '?', b: [`${literal}}`] })
  if (exact.length > 0)
    pieces.unshift({
      sql: `IF(${exact.map((e) => e.sql).join(' AND ')}, '', ?)`,
      b: [...exact.flatMap((e) => e.b), NOT_CANONICAL],
    })
  const row: Frag = {
    sql: `CONVERT(CONCAT(${pieces.map((p) => p.sql).join(', ')}) USING binary) as ??`,
    b: [...pieces.flatMap((p) => p.b), JSON_ROW_COLUMN],
  }
  const selects: Frag[] = [row]
  const columns: ResultColumn[] = [{ name: JSON_ROW_COLUMN, type: 'string', label: 'Row (JSON)' }]
  for (const o of plan.order) {
    const s = select.get(o.by)
    if (!s) return null
    selects.push({ sql: `${s.frag.sql} as ??`, b: [...s.frag.b, o.by] })
    columns.push(s.column)
  }
  return { selects, columns, text }
}

const BACKSLASH = 0x5c
const ESCAPE = Buffer.from('\\u00')

/**
 * The row as JSON.stringify writes it: marked rows (a BIGINT a double cannot hold) and rows with
 * JSON_QUOTE's upper-case `\u00XX` escapes are parsed and written again — a number becomes the double
 * the hub returns for it, as the ordinary path's normalisation does. Others are returned as they are.
 */
export function canonicalJsonRow(row: Buffer, checkEscapes: boolean): Buffer {
  if (row[0] === NOT_CANONICAL_BYTE) return Buffer.from(JSON.stringify(JSON.parse(row.toString('utf8', 1))))
  if (checkEscapes && row.indexOf(BACKSLASH) !== -1 && row.includes(ESCAPE))
    return Buffer.from(JSON.stringify(JSON.parse(row.toString('utf8'))))
  return row
}
