/**
 * Edm primitive types of the feed and the exact JSON form of each value (OData JSON Format v4.0
 * §7.1): Date as `YYYY-MM-DD`, DateTimeOffset with an offset, Int64 and Decimal as JSON numbers unless
 * the client asked for `IEEE754Compatible=true`, then as strings.
 */
export type EdmType =
  | 'Edm.String'
  | 'Edm.Int64'
  | 'Edm.Decimal'
  | 'Edm.Double'
  | 'Edm.Boolean'
  | 'Edm.Date'
  | 'Edm.DateTimeOffset'

/** The model's column types (ColumnType / ResultColumnType of the core) as Edm types. */
export function edmTypeOf(type: string): EdmType {
  switch (type) {
    case 'integer':
      return 'Edm.Int64'
    case 'decimal':
      return 'Edm.Decimal'
    case 'number':
    case 'double':
      return 'Edm.Double'
    case 'boolean':
      return 'Edm.Boolean'
    case 'date':
      return 'Edm.Date'
    case 'datetime':
      return 'Edm.DateTimeOffset'
    default:
      return 'Edm.String'
  }
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0')

function dateFromDate(d: Date): string {
  return `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`
}

const DATE_PREFIX = /^(\d{4}-\d{2}-\d{2})/
const NAIVE_DATETIME = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)$/
const NUMERIC = /^-?\d+(\.\d+)?([eE][+-]?\d+)?$/

/** `YYYY-MM-DD` from what a driver returns for a DATE column (string or Date at UTC midnight). */
export function formatDate(value: unknown): string | null {
  if (value === null || value === undefined) return null
  if (value instanceof Date) return dateFromDate(value)
  const m = DATE_PREFIX.exec(String(value))
  return m?.[1] ?? String(value)
}

/**
 * An ISO 8601 timestamp with an offset. Naive database datetimes are UTC (the hub's pools run with
 * `timezone: 'Z'`), so they get `Z`.
 */
export function formatDateTimeOffset(value: unknown): string | null {
  if (value === null || value === undefined) return null
  if (value instanceof Date) return value.toISOString()
  const s = String(value)
  const naive = NAIVE_DATETIME.exec(s)
  if (naive) return `${naive[1]}T${naive[2]?.length === 5 ? `${naive[2]}:00` : naive[2]}Z`
  if (/^\d{4}-\d{2}-\d{2}$/.test(s)) return `${s}T00:00:00Z`
  return s
}

export interface FormatOptions {
  /** `IEEE754Compatible=true`: Int64 and Decimal as JSON strings. */
  ieee754: boolean
}

/** One value as a JSON text fragment, exactly as the Edm type prescribes. */
export function jsonValue(type: EdmType, value: unknown, options: FormatOptions): string {
  if (value === null || value === undefined) return 'null'
  switch (type) {
    case 'Edm.Int64':
    case 'Edm.Decimal': {
      const text = typeof value === 'bigint' ? value.toString() : String(value)
      if (!NUMERIC.test(text)) return JSON.stringify(text)
      return options.ieee754 ? JSON.stringify(text) : text
    }
    case 'Edm.Double': {
      const n = Number(value)
      if (Number.isFinite(n)) return String(n)
      return JSON.stringify(Number.isNaN(n) ? 'NaN' : n > 0 ? 'INF' : '-INF')
    }
    case 'Edm.Boolean':
      return value === true || value === 1 || value === '1' || value === 'true' ? 'true' : 'false'
    case 'Edm.Date':
      return JSON.stringify(formatDate(value))
    case 'Edm.DateTimeOffset':
      return JSON.stringify(formatDateTimeOffset(value))
    default:
      return JSON.stringify(value instanceof Date ? value.toISOString() : String(value))
  }
}

/** Returned by a `plainWriter` for a value whose JSON text `JSON.stringify` cannot produce. */
export const NOT_PLAIN: unique symbol = Symbol('not plain')

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/

/**
 * For one Edm type: the plain JS value (string, finite number, boolean or null) whose
 * `JSON.stringify` is exactly `jsonValue(type, value, options)`, or NOT_PLAIN when there is none (an
 * exact decimal or a 64-bit integer that a double cannot hold, sent as a raw JSON number). A page
 * made of plain values is serialised by the engine's native JSON writer instead of text pieces.
 */
export function plainWriter(type: EdmType, options: FormatOptions): (value: unknown) => unknown {
  switch (type) {
    case 'Edm.Int64':
    case 'Edm.Decimal':
      return (v) => {
        if (v === null || v === undefined) return null
        if (typeof v === 'number' && Number.isFinite(v)) return options.ieee754 ? String(v) : v
        const text = typeof v === 'bigint' ? v.toString() : String(v)
        if (options.ieee754 || !NUMERIC.test(text)) return text
        const n = Number(text)
        return String(n) === text ? n : NOT_PLAIN
      }
    case 'Edm.Double':
      return (v) => {
        if (v === null || v === undefined) return null
        if (typeof v === 'number' && Number.isFinite(v)) return v
        const n = Number(v)
        return Number.isFinite(n) ? n : Number.isNaN(n) ? 'NaN' : n > 0 ? 'INF' : '-INF'
      }
    case 'Edm.Boolean':
      return (v) =>
        v === null || v === undefined ? null : v === true || v === 1 || v === '1' || v === 'true'
    case 'Edm.Date':
      return (v) => (typeof v === 'string' && DATE_ONLY.test(v) ? v : formatDate(v))
    case 'Edm.DateTimeOffset':
      return formatDateTimeOffset
    default:
      return (v) =>
        typeof v === 'string' || v === null || v === undefined
          ? (v ?? null)
          : v instanceof Date
            ? v.toISOString()
            : String(v)
  }
}

/**
 * The value as the plan compares it (filters and keyset tokens): dates as `YYYY-MM-DD`, datetimes as
 * naive UTC `YYYY-MM-DD HH:MM:SS[.fff]` (what both dialects compare correctly), numbers as numbers.
 */
export function comparableValue(type: EdmType, value: unknown): string | number | boolean | null {
  if (value === null || value === undefined) return null
  switch (type) {
    case 'Edm.Int64':
    case 'Edm.Decimal':
    case 'Edm.Double': {
      if (typeof value === 'number') return value
      const n = Number(value)
      return Number.isSafeInteger(n) || (!Number.isInteger(n) && Number.isFinite(n)) ? n : String(value)
    }
    case 'Edm.Boolean':
      return value === true || value === 1 || value === '1' || value === 'true'
    case 'Edm.Date':
      return formatDate(value)
    case 'Edm.DateTimeOffset': {
      const iso = formatDateTimeOffset(value)
      return iso === null ? null : naiveUtc(iso)
    }
    default:
      return String(value)
  }
}

/** An ISO timestamp with offset → naive UTC `YYYY-MM-DD HH:MM:SS[.fff]`. */
export function naiveUtc(iso: string): string {
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return iso
  const ms = d.getUTCMilliseconds()
  return `${dateFromDate(d)} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}${
    ms ? `.${pad(ms, 3)}` : ''
  }`
}
