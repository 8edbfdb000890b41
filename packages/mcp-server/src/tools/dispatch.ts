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
import { HubError, isHubError, toHubError } from '@nl2q/core'
import { refusalResult } from '../refusals.ts'
import type { McpSession } from '../session.ts'
import { argumentsHash } from './call.ts'

type ToolHandler = (args: unknown, ctx: ServerContext) => Promise<CallToolResult | InputRequiredResult>

/** An `mcp.tool` event this handler records itself: a refused call, or a tool that failed outside runTool. */
interface Outcome {
  outcome: 'denied' | 'error'
  code: string
  durationMs: number
}

/**
 * Our own `tools/call` handler, on the SDK's public surface (`setRequestHandler`,
 * `projectCallToolResult`, the Standard Schema `validate` of each tool's zod schema): the SDK still
 * lists the tools (tools/list, JSON Schemas), but every call lands here, so a call refused before
 * any tool runs — an unknown or hidden tool (run_sql for a viewer), arguments failing the input
 * schema — is audited as a denied `mcp.tool` event (tool, arguments hash, code) under the caller's
 * principal. The answers are the SDK's: a JSON-RPC InvalidParams error for an unknown tool, an
 * `isError` result for invalid arguments. A tool that throws past runTool, or whose structured
 * content fails its output schema, is a server fault: logged with its cause, audited as an `error`
 * event (code INTERNAL), and answered with a generic `isError` result naming the
 * request id — never the raw error message. Install after the tools are registered.
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
      await record(session, ctx, name, args, { outcome: 'denied', code: 'NOT_FOUND', durationMs: 0 })
      throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Tool ${name} not found`)
    }
    const input = await validate(tool.inputSchema, args ?? {})
    if (!input.ok) {
      await record(session, ctx, name, args, { outcome: 'denied', code: 'BAD_REQUEST', durationMs: 0 })
      return toolError(`Input validation error: Invalid arguments for tool ${name}: ${input.message}`)
    }
    const started = performance.now()
    const elapsed = () => Math.round(performance.now() - started)
    let result: CallToolResult | InputRequiredResult
    try {
      result = await (tool.handler as ToolHandler)(input.value, ctx)
    } catch (err) {
      // runTool answers every failure itself; this is the fallback for anything else. Its message
      // may hold SQL, paths or secrets: log it with its cause, answer a generic one.
      if (err instanceof ProtocolError && err.code === ProtocolErrorCode.UrlElicitationRequired) throw err
      const hubError = toHubError(err)
      if (hubError.status >= 500)
        session.logger.error({ err: hubError.cause ?? err, tool: name }, 'MCP tool failed')
      const outcome = hubError.status >= 500 ? 'error' : 'denied'
      const requestId = await record(session, ctx, name, args, {
        outcome,
        code: hubError.code,
        durationMs: elapsed(),
      })
      return refusalResult(hubError, requestId)
    }
    if (isInputRequiredResult(result)) return result
    if (tool.outputSchema && !result.isError) {
      const output = await validate(tool.outputSchema, result.structuredContent)
      if (!output.ok) {
        // The tool (or the hub call it made) may have audited success already; this event records
        // that the client got an error instead.
        session.logger.error({ tool: name, issues: output.message }, 'MCP tool output fails its schema')
        const requestId = await record(session, ctx, name, args, {
          outcome: 'error',
          code: 'INTERNAL',
          durationMs: elapsed(),
        })
        return refusalResult(
          new HubError('INTERNAL', `The tool ${name} produced a result that fails its output schema`),
          requestId,
        )
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

/** Audit one `mcp.tool` event under the caller's principal; the call's request id, when it got one. */
async function record(
  session: McpSession,
  ctx: ServerContext,
  tool: string,
  args: unknown,
  { outcome, code, durationMs }: Outcome,
): Promise<string | undefined> {
  const signal = ctx.mcpReq.signal
  let requestId: string | undefined
  try {
    const call = await session.open(signal)
    requestId = call.hub.requestId
    await call.audit.append({
      action: 'mcp.tool',
      resource: tool,
      outcome,
      rowCount: null,
      durationMs,
      detail: { tool, argumentsHash: argumentsHash(args), code },
    })
  } catch (err) {
    // A credential refused on the way (stdio re-checks it) is the caller's answer already.
    if (!isHubError(err)) session.logger.error({ err, tool }, 'could not audit an MCP tool call')
  }
  return requestId
}
