/** What the hub sends to the SQLite worker (worker.mjs) and what it answers. */
export interface SqliteTask {
  /** Absolute path of the database file; the worker opens it read-only + query_only. */
  file: string
  sql: string
  bindings: unknown[]
  maxRows: number
  /** The worker's own deadline (checked per scanned row and between rows); the pool kills it later. */
  timeoutMs: number
}

export type SqliteAnswer =
  | ({ ok: true; columns: string[]; truncated: boolean } & (
      | { rows: unknown[][] }
      /** Rows as one JSON string when every cell is a JSON value (cheaper to pass than a clone). */
      | { json: string }
    ))
  | {
      ok: false
      /**
       * timeout: past the deadline; read-only: not a single read-only statement; argument: bad
       * bindings; unavailable: the file is missing or unreadable.
       */
      kind: 'timeout' | 'read-only' | 'argument' | 'unavailable' | 'sqlite' | 'other'
      code: string
      message: string
    }
