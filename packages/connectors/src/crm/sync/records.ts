import { columnsOf, convert, type ObjectMapping } from './mapping.ts'
import type { TargetRow } from './target.ts'

/** The SOQL field list for a mapping: Id and SystemModstamp first, then every mapped path once. */
export function soqlFields(m: ObjectMapping): string[] {
  return [...new Set(['Id', 'SystemModstamp', ...columnsOf(m).map((c) => c.path)])]
}

export function selectSoql(object: string, m: ObjectMapping, extra?: string): string {
  const where = [m.where && `(${m.where})`, extra].filter(Boolean).join(' AND ')
  return `SELECT ${soqlFields(m).join(', ')} FROM ${object}${where ? ` WHERE ${where}` : ''}`
}

/** A field path's value in a REST record (nested relationships) or a Bulk CSV row (flat). */
export function pick(record: Record<string, unknown>, path: string): unknown {
  if (path in record) return record[path]
  let node: unknown = record
  for (const part of path.split('.')) {
    if (node === null || typeof node !== 'object') return null
    node = (node as Record<string, unknown>)[part]
  }
  return node ?? null
}

export interface Converted {
  id: string
  row?: TargetRow
  error?: string
}

/** Map one source record to a target row; a value that cannot convert is that record's error. */
export function toRow(m: ObjectMapping, record: Record<string, unknown>): Converted {
  const id = String(pick(record, 'Id') ?? '')
  const row: TargetRow = {}
  try {
    for (const c of columnsOf(m)) row[c.column] = convert(pick(record, c.path), c.type)
  } catch (err) {
    return { id, error: (err as Error).message }
  }
  if (row[m.key] === null || row[m.key] === undefined)
    return { id, error: `no value for the key column ${m.key}` }
  return { id, row }
}
