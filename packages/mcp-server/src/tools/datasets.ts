import type { McpServer, RegisteredTool } from '@modelcontextprotocol/server'
import { HubError } from '@nl2q/core'
import { jsonResult } from '../results.ts'
import {
  datasetOutput,
  describeDatasetInput,
  listDatasetsInput,
  listDatasetsOutput,
  READ_ONLY_ANNOTATIONS,
} from '../schemas.ts'
import type { McpSession } from '../session.ts'
import { runTool } from './call.ts'

export function registerDatasetTools(server: McpServer, session: McpSession): Record<string, RegisteredTool> {
  const list = server.registerTool(
    'list_datasets',
    {
      title: 'List the datasets you can ask about',
      description:
        'List the datasets this credential may ask about, with their measures (numbers you can total or average), dimensions (ways to break numbers down or filter) and example questions. Call it first to learn what can be asked.',
      inputSchema: listDatasetsInput,
      outputSchema: listDatasetsOutput,
      annotations: { ...READ_ONLY_ANNOTATIONS, title: 'List the datasets you can ask about' },
    },
    (args, mcp) =>
      runTool(session, mcp, 'list_datasets', args, { audit: true }, async ({ hub }) => {
        const all = await hub.datasets()
        const datasets = all.map((d) => ({
          name: d.name,
          label: d.label,
          description: d.description,
          measures: d.measures.map((m) => m.name),
          dimensions: d.dimensions.map((x) => x.name),
          examples: d.examples,
        }))
        return { result: jsonResult({ datasets }) }
      }),
  )

  const describe = server.registerTool(
    'describe_dataset',
    {
      title: 'Describe one dataset',
      description:
        'Describe one dataset: every measure with its aggregation, every dimension (key, attribute or time) with its type, the synonyms the hub understands for each, and example questions. Use the names and synonyms shown here in questions to the ask tool.',
      inputSchema: describeDatasetInput,
      outputSchema: datasetOutput,
      annotations: { ...READ_ONLY_ANNOTATIONS, title: 'Describe one dataset' },
    },
    (args, mcp) =>
      runTool(session, mcp, 'describe_dataset', args, { audit: true }, async ({ hub }) => {
        const all = await hub.datasets()
        const found = all.find((d) => d.name === args.name)
        if (!found) {
          throw new HubError('NOT_FOUND', `No dataset '${args.name}'`, {
            details: { suggestions: all.map((d) => d.name) },
          })
        }
        return { result: jsonResult({ ...found }) }
      }),
  )
  return { list_datasets: list, describe_dataset: describe }
}
