import type { ResultColumn, ResultColumnType, Row } from '../results.ts'

/**
 * Values as the column types promise, whatever the driver returned: numbers as numbers (MySQL
 * DECIMAL/BIGINT may arrive as strings), booleans as booleans (SQLite stores 0/1), dates as
 * 'YYYY-MM-DD' text.
 */
function convert(v: unknown, type: ResultColumnType): unknown {
  if (v === null || v === undefined) return null
  switch (type) {
    case 'integer':
    case 'decimal': {
      if (typeof v === 'number') return v
      if (typeof v === 'bigint') return Number(v)
      const n = Number(v)
      return Number.isNaN(n) ? v : n
    }
    case 'boolean':
      if (typeof v === 'boolean') return v
      if (typeof v === 'number' || typeof v === 'bigint') return Number(v) !== 0
      if (typeof v === 'string') return v === '1' || v.toLowerCase() === 'true'
      return Boolean(v)
    case 'date':
      if (v instanceof Date) return v.toISOString().slice(0, 10)
      return String(v).slice(0, 10)
    case 'datetime':
      if (v instanceof Date) return v.toISOString()
      return String(v)
    default:
      if (v instanceof Date) return v.toISOString()
      return typeof v === 'bigint' ? Number(v) : v
  }
}

/** Whether `convert(v, type)` would return `v` itself, so the cell can stay as the driver gave it. */
function alreadyConverted(v: unknown, type: ResultColumnType): boolean {
  if (typeof v === 'number') return type !== 'boolean' && type !== 'date' && type !== 'datetime'
  if (typeof v === 'string')
    return type === 'string' || type === 'datetime' || (type === 'date' && v.length <= 10)
  if (typeof v === 'boolean') return type === 'boolean' || type === 'string'
  return false
}

/**
 * Converts the driver's rows in place (they are not shared) and returns them: a page is thousands of
 * rows, and most cells (MySQL numbers, date strings) are already what the column type promises, so
 * only the others are rewritten instead of copying every row.
 */
export function normalizeRows(rows: unknown[][], columns: ResultColumn[]): Row[] {
  const types = columns.map((c) => c.type)
  for (const r of rows) {
    for (let i = 0; i < r.length; i++) {
      const v = r[i]
      if (v === null) continue
      const type = types[i] ?? 'string'
      if (!alreadyConverted(v, type)) r[i] = convert(v, type)
    }
  }
  return rows as Row[]
}

/** The type of a column of raw SQL results, from its values. */
export function typeOfValues(rows: unknown[][], i: number): ResultColumnType {
  let type: ResultColumnType | undefined
  for (const r of rows.slice(0, 200)) {
    const v = r[i]
    if (v === null || v === undefined) continue
    const t: ResultColumnType =
      typeof v === 'boolean'
        ? 'boolean'
        : typeof v === 'number' || typeof v === 'bigint'
          ? Number.isInteger(Number(v))
            ? 'integer'
            : 'decimal'
          : v instanceof Date
            ? 'datetime'
            : typeof v === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v)
              ? 'date'
              : 'string'
    if (!type) type = t
    else if (type !== t)
      type =
        type === 'integer' && t === 'decimal'
          ? 'decimal'
          : type === 'decimal' && t === 'integer'
            ? 'decimal'
            : 'string'
  }
  return type ?? 'string'
}
