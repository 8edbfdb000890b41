import { Readable } from 'node:stream'
import { setImmediate as tick } from 'node:timers/promises'
import type { QueryResult, ResultColumn } from '@nl2q/core'
import { type Options, stringify } from 'csv-stringify/sync'

/** CSV text gathered before a chunk goes downstream: one gzip job per ~quarter megabyte. */
const CHUNK_BYTES = 256 * 1024

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
 * cell holds the delimiter, a quote or a line break). Pulled page by page; pages are gathered into
 * chunks of ~256 KiB: memory holds a chunk, and what reads the stream (gzip, whose every write is a
 * round trip to the thread pool; an SFTP write) gets a few large writes instead of one per record.
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
    // Each batch's text is written into the chunk's buffer at once, so the strings die young (kept
    // across turns of the event loop, they would be promoted and grow the old space).
    let chunk = Buffer.allocUnsafe(CHUNK_BYTES)
    let used = 0
    try {
      while (page) {
        const text = stringify(page.rows, { ...format, header })
        header = false
        const bytes = Buffer.byteLength(text)
        if (used + bytes > chunk.length && used > 0) {
          yield chunk.subarray(0, used)
          chunk = Buffer.allocUnsafe(Math.max(CHUNK_BYTES, bytes))
          used = 0
        } else if (bytes > chunk.length) chunk = Buffer.allocUnsafe(bytes)
        used += chunk.write(text, used)
        options.onRows(page.rows.length)
        // Back to the event loop between batches: gzip hands each chunk to the thread pool and
        // needs this thread for the next one; batches that follow each other as microtasks would
        // keep it waiting (compressing and formatting would take turns instead of overlapping).
        await tick()
        const next: IteratorResult<QueryResult> = await rest.next()
        page = next.done ? undefined : next.value
      }
      if (used > 0) yield chunk.subarray(0, used)
    } finally {
      // a failed or abandoned upload stops the engine's paging too
      await rest.return?.()
    }
  }
  return Readable.from(chunks(), { objectMode: false, highWaterMark: CHUNK_BYTES })
}
