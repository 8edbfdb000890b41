import type { CallToolResult } from '@modelcontextprotocol/server'
import { type ErrorCode, type HubError, toHubError } from '@nl2q/core'

/** What the model should do next, per refusal code; the hub's own message says what was wrong. */
const HOW_TO_FIX: Partial<Record<ErrorCode, string>> = {
  UNANSWERABLE:
    'Rephrase the question with a measure and a dimension the dataset has (describe_dataset lists them), or pick another dataset with list_datasets.',
  UNKNOWN_FIELD:
    'Use one of the suggested names, or call describe_dataset to see the measures and dimensions you may ask about.',
  AMBIGUOUS: 'Ask again and name which of the candidates you mean.',
  READ_ONLY: 'Only questions that read data can be answered; nothing can be created, changed or deleted.',
  SQL_REJECTED:
    'Send exactly one read-only SELECT over the tables describe_dataset shows, without comments, semicolons or locking clauses; or use the ask tool with a plain-language question instead.',
  FORBIDDEN: 'Your credential does not allow this; use the ask tool, or ask an administrator for access.',
  NOT_FOUND: 'Call list_datasets to see the names you may use.',
  RATE_LIMITED: 'Wait before calling again.',
  TIMEOUT: 'Ask a narrower question (a shorter period, fewer dimensions, or a filter).',
  QUERY_TIMEOUT: 'Ask a narrower question (a shorter period, fewer dimensions, or a filter).',
  TENANT_BUSY: 'Too many queries of this tenant are running; wait a few seconds and call again.',
  DATA_SOURCE_UNAVAILABLE: 'The data source is down; wait a little and call again.',
  VALIDATION_FAILED: 'Fix the arguments as described and call again.',
  BAD_REQUEST: 'Fix the arguments as described and call again.',
}

/** Render the error's client-safe details (suggestions first) as lines a model can act on. */
function detailLines(details: Record<string, unknown> | undefined): string[] {
  if (!details) return []
  const entries = Object.entries(details).filter(
    ([, v]) => v !== null && v !== undefined && !(Array.isArray(v) && v.length === 0),
  )
  entries.sort(([a], [b]) => Number(b === 'suggestions') - Number(a === 'suggestions'))
  return entries.map(([key, value]) => {
    const label = key === 'suggestions' ? 'Suggestions' : key
    const text = Array.isArray(value)
      ? value.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join('; ')
      : typeof value === 'string'
        ? value
        : JSON.stringify(value)
    return `${label}: ${text}`
  })
}

/** The text of a refusal: code and message, the details (suggestions), and how to fix the call. */
export function refusalText(err: HubError, requestId?: string): string {
  const lines = [`${err.code}: ${err.message}`, ...detailLines(err.details)]
  const hint = HOW_TO_FIX[err.code]
  if (hint) lines.push(`How to fix: ${hint}`)
  if (err.status >= 500 && requestId) lines.push(`Request id: ${requestId}`)
  return lines.join('\n')
}

/**
 * A failed call as an MCP tool error (`isError: true`), so the model sees it and can retry. An error
 * that is not a HubError is a server fault: its message is not shown (it may hold SQL or paths).
 */
export function refusalResult(err: unknown, requestId?: string): CallToolResult {
  const hubError = toHubError(err)
  return { content: [{ type: 'text', text: refusalText(hubError, requestId) }], isError: true }
}
