import type { McpServer, RegisteredTool } from '@modelcontextprotocol/server'
import { capRows, jsonResult } from '../results.ts'
import { askInput, askOutput, READ_ONLY_ANNOTATIONS } from '../schemas.ts'
import type { McpSession } from '../session.ts'
import { reportProgress, runTool } from './call.ts'

export function registerAsk(server: McpServer, session: McpSession): RegisteredTool {
  const { maxRows } = session.limits
  return server.registerTool(
    'ask',
    {
      title: 'Ask a question about the data',
      description: [
        "Answer a natural-language question about this organisation's business data, e.g.",
        '"What were total TRx for Tirosint by region in Q4 2024?". The hub turns the question into a typed',
        'query over the datasets list_datasets shows, applies what you may see, and returns columns and rows',
        'with its interpretation of the question: check the interpretation before relying on the numbers.',
        'Name a measure, a breakdown and a period; use describe_dataset for the exact names and synonyms.',
        `At most ${maxRows} rows are returned; "truncated" says when more exist.`,
      ].join(' '),
      inputSchema: askInput(maxRows),
      outputSchema: askOutput,
      annotations: { ...READ_ONLY_ANNOTATIONS, title: 'Ask a question about the data' },
    },
    (args, mcp) =>
      runTool(session, mcp, 'ask', args, { audit: false }, async ({ hub }) => {
        await reportProgress(mcp, 0, 2, 'Interpreting the question and running the query')
        const answer = await hub.ask({
          question: args.question,
          asOf: args.asOf,
          limit: args.limit ?? maxRows,
        })
        const capped = capRows(answer, { ...session.limits, maxRows: args.limit ?? maxRows })
        await reportProgress(mcp, 1, 2, `Answer ready: ${capped.rowCount} rows`)
        const structured = {
          question: answer.question,
          interpretation: answer.interpretation,
          dataset: answer.plan.dataset,
          ...capped,
          durationMs: answer.durationMs,
          ...(answer.sql ? { sql: answer.sql } : {}),
          plan: answer.plan,
          warnings: answer.warnings,
        }
        await reportProgress(mcp, 2, 2, 'Done')
        return { result: jsonResult(structured), rowCount: capped.rowCount }
      }),
  )
}
