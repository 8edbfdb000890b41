export interface ExecuteQuery {
  sql: string
  bindings: readonly unknown[]
}

export interface ExecuteOptions {
  timeoutMs: number
  maxRows: number
  signal?: AbortSignal
}

export interface ExecuteResult {
  columns: string[]
  rows: unknown[][]
  truncated: boolean
}
