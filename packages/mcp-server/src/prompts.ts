import { completable, type McpServer } from '@modelcontextprotocol/server'
import type { DatasetSummary } from '@nl2q/core'
import { z } from 'zod'
import { protocolErrorFor } from './resources.ts'
import type { McpSession } from './session.ts'

function outline(d: DatasetSummary): string {
  const measures = d.measures.map((m) => `${m.name} (${m.aggregation} of ${m.label})`).join(', ')
  const time = d.dimensions.filter((x) => x.kind === 'time').map((x) => x.name)
  const dims = d.dimensions.filter((x) => x.kind !== 'time').map((x) => x.name)
  return [
    `Dataset "${d.name}" — ${d.label}: ${d.description}`,
    `  Measures: ${measures || 'none'}`,
    `  Break down or filter by: ${dims.join(', ') || 'none'}`,
    `  Time: ${time.join(', ') || 'none'}`,
    ...(d.examples.length ? [`  Example questions: ${d.examples.map((q) => `"${q}"`).join('; ')}`] : []),
  ].join('\n')
}

const GUIDE = [
  'You can answer questions about this organisation\'s data with the "ask" tool. Good questions:',
  '- name one measure (what to count or total), e.g. "total TRx", "net sales";',
  '- say how to break it down, e.g. "by product", "by region", "by month";',
  '- give a period, e.g. "in Q4 2024", "last quarter" (pass asOf to fix what "last" means);',
  '- add filters by value, e.g. "for Tirosint in the Northeast";',
  '- for rankings, say how many: "top 5 prescribers by NRx in 2024".',
  'Always read the "interpretation" in the answer and say so when it differs from what was meant.',
  'When "truncated" is true, say that the rows shown are not all of them.',
  'Use describe_dataset to find exact names and synonyms; on an error, follow its "How to fix" line.',
].join('\n')

/** Prompts that teach an assistant how to ask good questions of this tenant's datasets. */
export function registerPrompts(server: McpServer, session: McpSession): void {
  server.registerPrompt(
    'ask_good_questions',
    {
      title: 'How to ask good questions of this data',
      description: 'A guide to the datasets you may ask about and how to phrase questions for the ask tool',
    },
    async (mcp) => {
      try {
        const datasets = await (await session.open(mcp.mcpReq.signal)).hub.datasets()
        const text = `${GUIDE}\n\nThe datasets you may ask about:\n${datasets.map(outline).join('\n\n')}`
        return {
          description: 'How to ask good questions of this data',
          messages: [{ role: 'user', content: { type: 'text', text } }],
        }
      } catch (err) {
        throw protocolErrorFor(err, session)
      }
    },
  )

  server.registerPrompt(
    'explore_dataset',
    {
      title: 'Explore one dataset',
      description: 'Outline one dataset and suggest questions to ask about it',
      argsSchema: z.object({
        dataset: completable(z.string().describe('A dataset name from list_datasets'), async (value) => {
          const datasets = await session.hub.datasets()
          return datasets.map((d) => d.name).filter((n) => n.startsWith(value ?? ''))
        }),
      }),
    },
    async ({ dataset }, mcp) => {
      try {
        const datasets = await (await session.open(mcp.mcpReq.signal)).hub.datasets()
        const found = datasets.find((d) => d.name === dataset)
        const text = found
          ? `${outline(found)}\n\n${GUIDE}\n\nSuggest five questions this dataset can answer, then answer the first with the ask tool.`
          : `There is no dataset "${dataset}". The datasets are: ${datasets.map((d) => d.name).join(', ')}. Call list_datasets and pick one.`
        return {
          description: `Explore the ${dataset} dataset`,
          messages: [{ role: 'user', content: { type: 'text', text } }],
        }
      } catch (err) {
        throw protocolErrorFor(err, session)
      }
    },
  )
}
