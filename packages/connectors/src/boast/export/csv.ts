import { Readable } from 'node:stream'
import type { QueryResult, ResultColumn } from '@nl2q/core'
import { stringify } from 'csv-stringify'

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
 * cell holds the delimiter, a quote or a line break). Pulled page by page: memory holds one page.
 */
export function csvStream(
  first: QueryResult,
  rest: AsyncIterator<QueryResult>,
  options: { delimiter: string; onRows(n: number): void },
): Readable {
  const columns = first.columns
  async function* records(): AsyncGenerator<string[]> {
    let page: QueryResult | undefined = first
    try {
      while (page) {
        for (const row of page.rows) yield columns.map((c, i) => cellText(row[i], c.type))
        options.onRows(page.rows.length)
        const next: IteratorResult<QueryResult> = await rest.next()
        page = next.done ? undefined : next.value
      }
    } finally {
      // a failed or abandoned upload stops the engine's paging too
      await rest.return?.()
    }
  }
  const stringifier = stringify({
    header: true,
    columns: columns.map((c) => c.name),
    delimiter: options.delimiter,
    record_delimiter: 'windows',
    // csv-stringify quotes the record delimiter (CRLF) but not a lone CR or LF, which readers split on
    quoted_match: /[\r\n]/,
  })
  const source = Readable.from(records(), { objectMode: true })
  source.on('error', (err) => stringifier.destroy(err))
  stringifier.on('close', () => source.destroy())
  return source.pipe(stringifier)
}
