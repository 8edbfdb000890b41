import type { BoundHub, Principal, TenantAudit } from '@nl2q/core'
import type { Logger } from 'pino'

/** One call's doors: the audited hub and the audit, bound to the (re-verified) caller. */
export interface McpCall {
  hub: BoundHub
  audit: TenantAudit
  /** The call's abort signal (client cancel, HTTP disconnect, timeout). */
  signal: AbortSignal
}

/**
 * What one MCP server instance serves: one verified principal and the transport's request facts.
 * HTTP builds one per request (the shared middleware has authenticated and rate-limited it);
 * stdio builds one per connection and re-verifies the credential on every call through `open`.
 */
export interface McpSession {
  /** The principal the instance was built for: its role decides which tools are listed. */
  principal: Principal
  /** Bound to `principal` (completions, which carry no call of their own). */
  hub: BoundHub
  /**
   * The doors for one call. HTTP binds the request's principal (already checked); stdio re-checks
   * the key (revocation, rate limit) and throws HubError on refusal.
   */
  open(signal: AbortSignal): Promise<McpCall>
  limits: { maxRows: number; maxBytes: number }
  logger: Logger
}

/** The audit channel of every MCP call. */
export const MCP_CHANNEL = 'mcp'
