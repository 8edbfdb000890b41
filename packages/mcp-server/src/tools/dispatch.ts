import {
  type CallToolResult,
  type InputRequiredResult,
  isInputRequiredResult,
  type McpServer,
  ProtocolError,
  ProtocolErrorCode,
  type RegisteredTool,
  type ServerContext,
  type StandardSchemaV1,
} from '@modelcontextprotocol/server'
import { isHubError } from '@nl2q/core'
import type { McpSession } from '../session.ts'
import { argumentsHash } from './call.ts'

type ToolHandler = (args: unknown, ctx: ServerContext) => Promise<CallToolResult | InputRequiredResult>

/** Why a call never reached its tool, as the audit records it. */
type RefusalCode = 'NOT_FOUND' | 'BAD_REQUEST'

/**
 * Our own `tools/call` handler, on the SDK's public surface (`setRequestHandler`,
 * `projectCallToolResult`, the Standard Schema `validate` of each tool's zod schema): the SDK still
 * lists the tools (tools/list, JSON Schemas), but every call lands here, so a call refused before
 * any tool runs — an unknown or hidden tool (run_sql for a viewer), arguments failing the input
 * schema — is audited as a denied `mcp.tool` event (tool, arguments hash, code) under the caller's
 * principal. The answers are the SDK's: a JSON-RPC InvalidParams error for an unknown tool, an
 * `isError` result for invalid arguments. Install after the tools are registered.
 */
export function dispatchToolCalls(
  server: McpServer,
  session: McpSession,
  tools: ReadonlyMap<string, RegisteredTool>,
): void {
  server.server.removeRequestHandler('tools/call')
  server.server.setRequestHandler('tools/call', async (request, ctx) => {
    const { name, arguments: args } = request.params
    const tool = tools.get(name)
    if (!tool?.enabled) {
      await recordRefused(session, ctx, name, args, 'NOT_FOUND')
      throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Tool ${name} not found`)
    }
    const input = await validate(tool.inputSchema, args ?? {})
    if (!input.ok) {
      await recordRefused(session, ctx, name, args, 'BAD_REQUEST')
      return toolError(`Input validation error: Invalid arguments for tool ${name}: ${input.message}`)
    }
    let result: CallToolResult | InputRequiredResult
    try {
      result = await (tool.handler as ToolHandler)(input.value, ctx)
    } catch (err) {
      // runTool answers every failure itself; this is the SDK's fallback for anything else.
      if (err instanceof ProtocolError && err.code === ProtocolErrorCode.UrlElicitationRequired) throw err
      return toolError(err instanceof Error ? err.message : String(err))
    }
    if (isInputRequiredResult(result)) return result
    if (tool.outputSchema && !result.isError) {
      const output = await validate(tool.outputSchema, result.structuredContent)
      if (!output.ok) {
        session.logger.error({ tool: name, issues: output.message }, 'MCP tool output fails its schema')
        return toolError(`Output validation error: Invalid structured content for tool ${name}`)
      }
    }
    return server.server.projectCallToolResult(result, outputJsonSchema(tool))
  })
}

function toolError(text: string): CallToolResult {
  return { content: [{ type: 'text', text }], isError: true }
}

async function validate(
  schema: StandardSchemaV1 | undefined,
  value: unknown,
): Promise<{ ok: true; value: unknown } | { ok: false; message: string }> {
  if (!schema) return { ok: true, value }
  const result = await schema['~standard'].validate(value)
  if (!result.issues) return { ok: true, value: result.value }
  const message = result.issues
    .map((i) => {
      const path = (i.path ?? []).map((p) => String(typeof p === 'object' ? p.key : p)).join('.')
      return path ? `${path}: ${i.message}` : i.message
    })
    .join(', ')
  return { ok: false, message }
}

/** The JSON Schema tools/list advertises for the tool's output (the SDK projects results by its root). */
function outputJsonSchema(tool: RegisteredTool): Record<string, unknown> | undefined {
  return tool.outputSchema?.['~standard'].jsonSchema.output({ target: 'draft-2020-12' })
}

async function recordRefused(
  session: McpSession,
  ctx: ServerContext,
  tool: string,
  args: unknown,
  code: RefusalCode,
): Promise<void> {
  const signal = ctx.mcpReq.signal
  try {
    const call = await session.open(signal)
    await call.audit.append({
      action: 'mcp.tool',
      resource: tool,
      outcome: 'denied',
      rowCount: null,
      durationMs: 0,
      detail: { tool, argumentsHash: argumentsHash(args), code },
    })
  } catch (err) {
    // A credential refused on the way (stdio re-checks it) is the caller's answer already.
    if (!isHubError(err)) session.logger.error({ err, tool }, 'could not audit an MCP tool call')
  }
}
