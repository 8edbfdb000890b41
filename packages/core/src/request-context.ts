/** Per-request facts that travel with every call into the hub (for audit and cancellation). */
export interface RequestContext {
  requestId: string
  clientIp: string | null
  /** The connector or route asking (`api`, `mcp`, `odata`, `cli`, …), recorded in audit. */
  channel: string
  signal?: AbortSignal
}
