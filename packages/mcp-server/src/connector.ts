import type { McpHttpHandler } from '@modelcontextprotocol/server'
import { type Connector, defineConnector } from '@nl2q/core'
import { loadMcpConfig } from './config.ts'
import { mountMcp } from './http/routes.ts'

/**
 * The MCP connector: `/mcp` (Streamable HTTP, stateless) and its OAuth protected-resource metadata,
 * behind the hub's shared auth, rate limit and audit. `env` is read for the MCP settings (tests pass
 * their own); each call returns an independent connector.
 */
export function createMcpConnector(env: NodeJS.ProcessEnv = process.env): Connector {
  const handlers = new Set<McpHttpHandler>()
  return defineConnector({
    name: 'mcp',
    routes(app, ctx) {
      handlers.add(mountMcp(app, ctx, loadMcpConfig(ctx.config, env)))
    },
    async close() {
      await Promise.all([...handlers].map((h) => h.close()))
      handlers.clear()
    },
  })
}
