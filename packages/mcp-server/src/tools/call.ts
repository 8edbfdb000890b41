import type { CallToolResult, ServerContext } from '@modelcontextprotocol/server'
import { canonicalHash, type HubError, toHubError } from '@nl2q/core'
import { refusalResult } from '../refusals.ts'
import type { McpCall, McpSession } from '../session.ts'

export type ToolCall = McpCall

/** Canonical hash of a call's arguments for the audit record (the arguments themselves are not stored). */
export function argumentsHash(args: unknown): string {
  return canonicalHash(args ?? {})
}

/**
 * Run one tool call: authorize (stdio re-checks the key and its rate limit), build the request
 * context with the call's abort signal, and turn any failure into an `isError` result. `audit`
 * records an `mcp.tool` event for tools whose hub call does not audit itself (hub.ask and hub.sql do).
 */
export async function runTool(
  session: McpSession,
  mcp: ServerContext,
  tool: string,
  args: unknown,
  options: { audit: boolean },
  body: (call: ToolCall) => Promise<{ result: CallToolResult; rowCount?: number }>,
): Promise<CallToolResult> {
  const started = performance.now()
  const signal = mcp.mcpReq.signal
  let call: ToolCall | undefined
  const audit = async (outcome: 'success' | 'denied' | 'error', rowCount: number | null, code?: string) => {
    if (!options.audit || !call) return
    await call.audit.append({
      action: 'mcp.tool',
      resource: tool,
      outcome,
      rowCount,
      durationMs: Math.round(performance.now() - started),
      detail: { tool, argumentsHash: argumentsHash(args), ...(code ? { code } : {}) },
    })
  }
  try {
    call = await session.open(signal)
    const { result, rowCount } = await body(call)
    await audit('success', rowCount ?? null)
    return result
  } catch (err) {
    const hubError: HubError = toHubError(err)
    const cancelled = signal.aborted || call?.signal.aborted === true
    if (cancelled) session.logger.debug({ tool, code: hubError.code }, 'MCP tool call cancelled')
    else if (hubError.status >= 500)
      session.logger.error({ err: hubError.cause ?? err, tool, code: hubError.code }, 'MCP tool failed')
    try {
      await audit(hubError.status < 500 ? 'denied' : 'error', null, hubError.code)
    } catch (auditErr) {
      return refusalResult(auditErr, call?.hub.requestId)
    }
    return refusalResult(hubError, call?.hub.requestId)
  }
}

/** Report progress when the client asked for it (a progress token in the request's _meta). */
export async function reportProgress(
  mcp: ServerContext,
  progress: number,
  total: number,
  message: string,
): Promise<void> {
  const progressToken = mcp.mcpReq._meta?.progressToken
  if (progressToken === undefined) return
  await mcp.mcpReq
    .notify({ method: 'notifications/progress', params: { progressToken, progress, total, message } })
    .catch(() => undefined)
}
