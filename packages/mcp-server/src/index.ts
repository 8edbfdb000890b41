// @nl2q/mcp-server public API. The hub loads the default export by name (HUB_CONNECTORS).
import { createMcpConnector } from './connector.ts'

export {
  loadMcpConfig,
  type McpConfig,
  McpConfigSchema,
  McpEnvSchema,
  mcpConfigOf,
} from './config.ts'
export { createMcpConnector } from './connector.ts'
export { createMcpServer, SERVER_INFO } from './server.ts'
export { MCP_CHANNEL, type McpSession } from './session.ts'
export { relayStdioToHub, serveRemoteOverStdio } from './stdio/relay.ts'
export { type StdioHandle, type StdioOptions, serveHubOverStdio } from './stdio/serve.ts'

export default createMcpConnector()
