import { McpServer, type RegisteredTool } from '@modelcontextprotocol/server'
import { hasRole } from '@nl2q/core'
import { registerPrompts } from './prompts.ts'
import { registerDatasetResources } from './resources.ts'
import type { McpSession } from './session.ts'
import { registerAsk } from './tools/ask.ts'
import { registerDatasetTools } from './tools/datasets.ts'
import { dispatchToolCalls } from './tools/dispatch.ts'
import { registerRunSql } from './tools/run-sql.ts'

export const SERVER_INFO = { name: 'nl2q-hub', title: 'NL2Q Hub', version: '0.1.0' } as const

const INSTRUCTIONS = [
  "This server answers questions about one organisation's business data; you never need to write SQL.",
  'Start with list_datasets (or the ask_good_questions prompt) to learn what can be asked, then call ask',
  'with a plain-language question naming a measure, a breakdown and a period. Check the interpretation in',
  'every answer. Results are data only; a tool error says how to fix the call.',
].join(' ')

/**
 * One MCP server instance for one session: tools in a fixed order (ask, list_datasets,
 * describe_dataset, then run_sql for roles that may run SQL), dataset resources and prompts. A call
 * that no tool handler sees (unknown or hidden tool, invalid arguments) is audited too.
 */
export function createMcpServer(session: McpSession): McpServer {
  const server = new McpServer(SERVER_INFO, {
    instructions: INSTRUCTIONS,
    capabilities: {
      tools: { listChanged: false },
      resources: { listChanged: false },
      prompts: { listChanged: false },
    },
  })
  const tools = new Map<string, RegisteredTool>([
    ['ask', registerAsk(server, session)],
    ...Object.entries(registerDatasetTools(server, session)),
  ])
  if (hasRole(session.principal, 'admin', 'analyst')) tools.set('run_sql', registerRunSql(server, session))
  dispatchToolCalls(server, session, tools)
  registerDatasetResources(server, session)
  registerPrompts(server, session)
  return server
}
