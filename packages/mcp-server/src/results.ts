import type { CallToolResult } from '@modelcontextprotocol/server'
import type { QueryResult } from '@nl2q/core'

export type Cell = string | number | boolean | null

export interface CappedRows {
  columns: { name: string; type: string; label: string }[]
  rows: Cell[][]
  /** Rows returned in this answer (after the caps). */
  rowCount: number
  truncated: boolean
  /** Why rows are missing: the hub's or the MCP row cap, or the byte cap on the answer. */
  truncatedBy: 'row_limit' | 'byte_limit' | null
}

/** A database value as JSON data: dates as ISO strings, big integers exactly, bytes as base64. */
export function toCell(value: unknown): Cell {
  if (value === null || value === undefined) return null
  if (typeof value === 'string' || typeof value === 'boolean') return value
  if (typeof value === 'number') return Number.isFinite(value) ? value : null
  if (typeof value === 'bigint') {
    return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString()
  }
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString()
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64')
  return JSON.stringify(value)
}

/**
 * Cap a hub result to `maxRows` rows and `maxBytes` bytes of row JSON. Whole rows only: a row that
 * would cross the byte budget is left out and the answer says so.
 */
export function capRows(result: QueryResult, limits: { maxRows: number; maxBytes: number }): CappedRows {
  const rows: Cell[][] = []
  let bytes = 2
  let truncatedBy: CappedRows['truncatedBy'] = result.truncated ? 'row_limit' : null
  for (const raw of result.rows) {
    if (rows.length >= limits.maxRows) {
      truncatedBy = 'row_limit'
      break
    }
    const row = raw.map(toCell)
    const size = Buffer.byteLength(JSON.stringify(row)) + 1
    if (bytes + size > limits.maxBytes) {
      truncatedBy = 'byte_limit'
      break
    }
    bytes += size
    rows.push(row)
  }
  return {
    columns: result.columns.map((c) => ({ name: c.name, type: c.type, label: c.label })),
    rows,
    rowCount: rows.length,
    truncated: truncatedBy !== null,
    truncatedBy,
  }
}

/** A tool answer: the structured result, and the same JSON as text for clients without structure. */
export function jsonResult<T extends Record<string, unknown>>(structured: T): CallToolResult {
  return { content: [{ type: 'text', text: JSON.stringify(structured) }], structuredContent: structured }
}
