/** One audit event as a caller describes it; who, when and where are added by the hub. */
export interface AuditEventInput {
  action: string
  resource?: string | null
  /**
   * `failure`: bad credential; `denied`: not allowed; `invalid`: a malformed or impossible request;
   * `timeout`: the query or the request ran past its deadline (504), whatever else it did.
   */
  outcome: 'success' | 'failure' | 'denied' | 'invalid' | 'error' | 'timeout'
  rowCount?: number | null
  durationMs?: number | null
  questionHash?: string | null
  planHash?: string | null
  sqlHash?: string | null
  detail?: Record<string, unknown> | null
}
