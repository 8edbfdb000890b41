import { testConnector } from '@nl2q/core/testing'
import { createMcpConnector } from './connector.ts'
import { MCP_PATH, PRM_PATH } from './http/resource-url.ts'

testConnector({
  connector: createMcpConnector,
  // OAuth protected-resource metadata is public by RFC 9728.
  publicPaths: [PRM_PATH, `${PRM_PATH}${MCP_PATH}`],
  dataCalls: [
    {
      name: 'tools/call ask',
      send: (request) =>
        request(MCP_PATH, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            accept: 'application/json, text/event-stream',
            'mcp-protocol-version': '2025-11-25',
          },
          body: JSON.stringify({
            jsonrpc: '2.0',
            id: 1,
            method: 'tools/call',
            params: { name: 'ask', arguments: { question: 'total trx by region' } },
          }),
        }),
    },
  ],
})
