import { Readable } from 'node:stream'
import type { QueryResult, ResultColumn } from '@nl2q/core'
import { type Options, stringify } from 'csv-stringify/sync'

/** A cell as CSV text: ISO-8601 dates, `.` decimals, `true`/`false`, empty for null. */
export function cellText(value: unknown, type: ResultColumn['type']): string {
  if (value === null || value === undefined) return ''
  if (value instanceof Date) return type === 'date' ? value.toISOString().slice(0, 10) : value.toISOString()
  if (type === 'boolean') return value === true || value === 1 || value === '1' ? 'true' : 'false'
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : ''
  if (typeof value === 'bigint') return value.toString()
  if (Buffer.isBuffer(value)) return value.toString('base64')
  return String(value)
}

/**
 * Rows of paged results as an RFC 4180 CSV byte stream (csv-stringify: CRLF records, quoted when a
 * cell holds the delimiter, a quote or a line break). Pulled page by page, and each page becomes one
 * chunk: memory holds one page, and what reads the stream (gzip, whose every write is a round trip
 * to the thread pool; an SFTP write) gets a few large writes instead of one per record.
 */
export function csvStream(
  first: QueryResult,
  rest: AsyncIterator<QueryResult>,
  options: { delimiter: string; onRows(n: number): void },
): Readable {
  const columns = first.columns
  const types = columns.map((c) => c.type)
  // The engine's rows are typed already (numbers, booleans, 'YYYY-MM-DD' dates, ISO datetimes,
  // null): csv-stringify formats them in place through these casts, with no per-row copy.
  const format: Options = {
    delimiter: options.delimiter,
    record_delimiter: 'windows',
    // csv-stringify quotes the record delimiter (CRLF) but not a lone CR or LF, which readers split on
    quoted_match: /[\r\n]/,
    columns: columns.map((c) => c.name),
    cast: {
      boolean: (v) => (v ? 'true' : 'false'),
      number: (v) => (Number.isFinite(v) ? String(v) : ''),
      bigint: (v) => v.toString(),
      date: (v, context) => cellText(v, types[context.index] ?? 'datetime'),
      object: (v, context) => cellText(v, types[context.index] ?? 'string'),
    },
  }
  async function* chunks(): AsyncGenerator<Buffer> {
    let page: QueryResult | undefined = first
    let header = true
    try {
      while (page) {
        const text = stringify(page.rows, { ...format, header })
        header = false
        if (text.length > 0) yield Buffer.from(text)
        options.onRows(page.rows.length)
        const next: IteratorResult<QueryResult> = await rest.next()
        page = next.done ? undefined : next.value
      }
    } finally {
      // a failed or abandoned upload stops the engine's paging too
      await rest.return?.()
    }
  }
  return Readable.from(chunks(), { objectMode: false, highWaterMark: 1024 * 1024 })
}
