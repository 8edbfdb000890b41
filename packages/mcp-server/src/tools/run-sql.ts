import type { McpServer, RegisteredTool } from '@modelcontextprotocol/server'
import { capRows, jsonResult } from '../results.ts'
import { READ_ONLY_ANNOTATIONS, sqlInput, sqlOutput } from '../schemas.ts'
import type { McpSession } from '../session.ts'
import { runTool } from './call.ts'

/** Guarded SQL: registered only for principals whose role allows it (the hub refuses others too). */
export function registerRunSql(server: McpServer, session: McpSession): RegisteredTool {
  const { maxRows } = session.limits
  return server.registerTool(
    'run_sql',
    {
      title: 'Run a read-only SQL query',
      description: [
        'Run one read-only SELECT statement over the tables of your datasets when the ask tool cannot express',
        'the question. The statement is parsed and checked before it runs: a single SELECT only (no semicolons,',
        'comments, data-changing CTEs, INTO, locking clauses or statements other than SELECT), scoped to the rows',
        `and columns you may see, at most ${maxRows} rows. Prefer ask for questions in plain language.`,
      ].join(' '),
      inputSchema: sqlInput(maxRows),
      outputSchema: sqlOutput,
      annotations: { ...READ_ONLY_ANNOTATIONS, title: 'Run a read-only SQL query' },
    },
    (args, mcp) =>
      runTool(session, mcp, 'run_sql', args, { audit: false }, async ({ hub }) => {
        const result = await hub.sql({ sql: args.sql, limit: args.limit ?? maxRows })
        const capped = capRows(result, { ...session.limits, maxRows: args.limit ?? maxRows })
        const structured = {
          ...capped,
          durationMs: result.durationMs,
          ...(result.sql ? { sql: result.sql } : {}),
        }
        return { result: jsonResult(structured), rowCount: capped.rowCount }
      }),
  )
}
