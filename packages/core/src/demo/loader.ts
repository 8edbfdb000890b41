/** A dialect's bulk-load path: one dedicated connection, held for the whole seed. */

import type { Row } from './dimensions.ts'
import type { TableDef } from './schema.ts'

/** Called after each flushed batch with the rows and chunks (HCPs, for the fact tables) loaded so far. */
export type LoadProgress = (rows: number, chunks: number) => void

export interface BulkLoader {
  /** Pharma tables that already exist. */
  existing(): Promise<string[]>
  /** Drop the existing pharma tables when `replace`, then create the tables with their keys. */
  begin(replace: boolean): Promise<void>
  /** Insert a stream of row chunks into a table; returns the number of rows inserted. */
  load(
    table: TableDef,
    chunks: Iterable<Row[]>,
    progress: LoadProgress,
    signal?: AbortSignal,
  ): Promise<number>
  /** Build secondary indexes and foreign keys, refresh statistics, make the data durable. */
  finish(): Promise<void>
  /** Undo what can be undone after a failure (SQLite: everything; MySQL: drop the half-loaded tables). */
  abort(): Promise<void>
  /** Restore the connection's session and give it back to the pool. Always called. */
  release(): Promise<void>
}

/** Let timers (progress bars) and abort signals run between synchronous batches. */
export const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))
