import type { InboundColumn } from './manifest.ts'

const INT = /^[-+]?\d+$/
const DEC = /^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/
const DATETIME = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?$/

export type Cell = string | number | boolean | null

/** A CSV cell as the declared type, or the reason it is not one. */
export function typedCell(text: string, column: InboundColumn): { value: Cell } | { problem: string } {
  if (text === '')
    return column.nullable ? { value: null } : { problem: 'empty, but the column is not nullable' }
  switch (column.type) {
    case 'string':
      return { value: text }
    case 'integer': {
      const n = Number(text)
      return INT.test(text) && Number.isSafeInteger(n)
        ? { value: n }
        : { problem: `'${clip(text)}' is not an integer` }
    }
    case 'decimal': {
      const n = Number(text)
      return DEC.test(text) && Number.isFinite(n)
        ? { value: n }
        : { problem: `'${clip(text)}' is not a decimal` }
    }
    case 'boolean':
      if (text === 'true' || text === '1') return { value: true }
      if (text === 'false' || text === '0') return { value: false }
      return { problem: `'${clip(text)}' is not true/false` }
    case 'date': {
      const m = DATE.exec(text)
      if (!m) return { problem: `'${clip(text)}' is not a YYYY-MM-DD date` }
      const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])))
      return d.toISOString().slice(0, 10) === text
        ? { value: text }
        : { problem: `'${clip(text)}' is not a real date` }
    }
    case 'datetime':
      return DATETIME.test(text) && !Number.isNaN(Date.parse(text))
        ? { value: new Date(text).toISOString() }
        : { problem: `'${clip(text)}' is not an ISO-8601 date-time` }
  }
}

const clip = (s: string) => (s.length > 40 ? `${s.slice(0, 40)}…` : s)
