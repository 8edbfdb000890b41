import type { CallToolResult, McpServer, ServerContext } from '@modelcontextprotocol/server'
import { isHubError } from '@nl2q/core'
import type { McpSession } from '../session.ts'
import { argumentsHash, reachedToolHandler } from './call.ts'

type CallHandler = (request: unknown, ctx: ServerContext) => Promise<unknown>

/** The protocol object's handler table (public in the SDK's JavaScript, marked protected in its types). */
interface HandlerTable {
  _getRequestHandler(method: string): CallHandler | undefined
  removeRequestHandler(method: string): void
}

/**
 * Every `tools/call` leaves an audit record. The SDK answers some before any tool handler runs: an
 * unknown or hidden tool (run_sql for a viewer: a JSON-RPC error) and arguments that fail the input
 * schema (an `isError` result). This wraps the SDK's own `tools/call` handler and records those as
 * denied `mcp.tool` events — tool name, arguments hash and the reason — under the caller's
 * principal. Install after the tools are registered.
 */
export function auditUnhandledToolCalls(server: McpServer, session: McpSession): void {
  const table = server.server as unknown as HandlerTable
  const original = table._getRequestHandler('tools/call')
  if (!original) throw new Error('tools/call has no handler: register the tools first')
  table.removeRequestHandler('tools/call')
  server.server.setRequestHandler('tools/call', async (request, ctx) => {
    let result: unknown
    let failure: unknown
    try {
      result = await original(request, ctx)
    } catch (err) {
      failure = err
    }
    if (!reachedToolHandler(ctx)) {
      // The SDK throws for an unknown or disabled tool and answers isError for invalid arguments.
      const code = failure
        ? /\b(not found|disabled)\b/.test(String((failure as Error)?.message))
          ? 'NOT_FOUND'
          : 'INTERNAL'
        : (result as CallToolResult).isError
          ? 'BAD_REQUEST'
          : null
      if (code) await recordUnhandled(session, ctx, request.params.name, request.params.arguments, code)
    }
    if (failure) throw failure
    return result as CallToolResult
  })
}

async function recordUnhandled(
  session: McpSession,
  ctx: ServerContext,
  tool: string,
  args: unknown,
  code: string,
): Promise<void> {
  const signal = ctx.mcpReq.signal
  try {
    const call = await session.open(signal)
    await call.audit.append({
      action: 'mcp.tool',
      resource: tool,
      outcome: code === 'INTERNAL' ? 'error' : 'denied',
      rowCount: null,
      durationMs: 0,
      detail: { tool, argumentsHash: argumentsHash(args), code },
    })
  } catch (err) {
    // A credential refused on the way (stdio re-checks it) is the caller's answer already.
    if (!isHubError(err)) session.logger.error({ err, tool }, 'could not audit an MCP tool call')
  }
}
