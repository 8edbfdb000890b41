import type { Hub, Principal, RequestContext } from '@nl2q/core'
import type { Logger } from 'pino'

/**
 * What one MCP server instance serves: a hub, one verified principal and the transport's request
 * facts. HTTP builds one per request (the shared middleware has authenticated and rate-limited it);
 * stdio builds one per connection and re-verifies the credential on every call through `authorize`.
 */
export interface McpSession {
  hub: Hub
  /** The principal the instance was built for: its role decides which tools are listed. */
  principal: Principal
  /**
   * The principal to act as for one call. HTTP returns `principal` (already checked); stdio
   * re-checks the key (revocation, rate limit) and throws HubError on refusal.
   */
  authorize(signal: AbortSignal): Promise<Principal>
  /** Request facts for the hub's audit and cancellation; `signal` aborts the running query. */
  context(signal: AbortSignal): RequestContext
  limits: { maxRows: number; maxBytes: number }
  logger: Logger
}

/** The audit channel of every MCP call. */
export const MCP_CHANNEL = 'mcp'
