/** One audit event as a caller describes it; who, when and where are added by the hub. */
export interface AuditEventInput {
  action: string
  resource?: string | null
  outcome: 'success' | 'failure' | 'denied' | 'error'
  rowCount?: number | null
  durationMs?: number | null
  questionHash?: string | null
  planHash?: string | null
  sqlHash?: string | null
  detail?: Record<string, unknown> | null
}
