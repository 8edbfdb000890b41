import {
  type McpServer,
  ProtocolError,
  ProtocolErrorCode,
  ResourceNotFoundError,
  ResourceTemplate,
  type ServerContext,
} from '@modelcontextprotocol/server'
import { type DatasetSummary, HubError, toHubError } from '@nl2q/core'
import { refusalText } from './refusals.ts'
import type { McpSession } from './session.ts'
import { argumentsHash } from './tools/call.ts'

export const DATASET_URI_PREFIX = 'nl2q://datasets/'

/** Datasets visible to the caller, re-authorizing first (stdio re-checks the key per call). */
async function visibleDatasets(session: McpSession, mcp: ServerContext): Promise<DatasetSummary[]> {
  const call = await session.open(mcp.mcpReq.signal)
  return call.hub.datasets()
}

/** A hub refusal as the protocol error resources/read and prompts/get answer with. */
export function protocolErrorFor(err: unknown, session: McpSession): ProtocolError {
  if (err instanceof ProtocolError) return err
  const hubError = toHubError(err)
  if (hubError.status >= 500) {
    session.logger.error({ err: hubError.cause ?? err, code: hubError.code }, 'MCP request failed')
    return new ProtocolError(ProtocolErrorCode.InternalError, `${hubError.code}: ${hubError.message}`)
  }
  return new ProtocolError(ProtocolErrorCode.InvalidParams, refusalText(hubError))
}

/** `nl2q://datasets/{name}`: each dataset's schema (measures, dimensions, synonyms, examples) as JSON. */
export function registerDatasetResources(server: McpServer, session: McpSession): void {
  const template = new ResourceTemplate(`${DATASET_URI_PREFIX}{name}`, {
    list: async (mcp) => {
      try {
        const datasets = await visibleDatasets(session, mcp)
        return {
          resources: datasets.map((d) => ({
            uri: `${DATASET_URI_PREFIX}${d.name}`,
            name: d.name,
            title: d.label,
            description: d.description,
            mimeType: 'application/json',
          })),
        }
      } catch (err) {
        throw protocolErrorFor(err, session)
      }
    },
  })
  server.registerResource(
    'dataset',
    template,
    {
      title: 'Dataset schema',
      description:
        'A dataset you may ask about: its measures, dimensions, synonyms and example questions (JSON).',
      mimeType: 'application/json',
    },
    async (uri, variables, mcp) => {
      const started = performance.now()
      const name = String(variables.name ?? '')
      try {
        const call = await session.open(mcp.mcpReq.signal)
        const found = (await call.hub.datasets()).find((d) => d.name === name)
        if (!found) throw new HubError('NOT_FOUND', `No dataset '${name}'`)
        await call.audit.append({
          action: 'mcp.resource',
          resource: uri.href,
          outcome: 'success',
          durationMs: Math.round(performance.now() - started),
          detail: { argumentsHash: argumentsHash({ uri: uri.href }) },
        })
        return {
          contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify(found, null, 2) }],
        }
      } catch (err) {
        if (err instanceof HubError && err.code === 'NOT_FOUND') throw new ResourceNotFoundError(uri.href)
        throw protocolErrorFor(err, session)
      }
    },
  )
}
