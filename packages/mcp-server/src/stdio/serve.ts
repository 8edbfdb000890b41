import { randomUUID } from 'node:crypto'
import type { Transport } from '@modelcontextprotocol/server'
import { serveStdio } from '@modelcontextprotocol/server/stdio'
import {
  bindAudit,
  bindHub,
  createHubApp,
  HubError,
  loadConfig,
  type Principal,
  type RequestContext,
  type RunningHub,
} from '@nl2q/core'
import pino, { type Logger } from 'pino'
import { loadMcpConfig } from '../config.ts'
import { createMcpServer } from '../server.ts'
import { MCP_CHANNEL, type McpSession } from '../session.ts'
import { readStdioCredential, stdioCredentialSource } from './credentials.ts'
import { createKeyGate } from './key-gate.ts'

export interface StdioOptions {
  /** Hub and credential settings (HUB_*, NL2Q_*); default `process.env`. */
  env?: NodeJS.ProcessEnv
  /** Bring your own transport (tests, sockets); default: this process's stdin and stdout. */
  transport?: Transport
  /** Default: pino on stderr (fd 2), so that stdout carries nothing but MCP messages. */
  logger?: Logger
}

export interface StdioHandle {
  /** The principal the key resolved to when the server started. */
  principal: Principal
  /** The embedded hub (its HTTP app is not listening; tests and embedders may call it in-process). */
  hub: RunningHub
  /** Close the MCP connection and the embedded hub (pools, limiter, metadata store). */
  close(): Promise<void>
}

/**
 * Serve MCP over stdio from an embedded hub: open the hub in-process (no connectors), verify the
 * key through the hub's own authenticate and rate-limit middleware, and serve both protocol eras
 * (2025-11-25 `initialize`, 2026-07-28 per-request envelope) from one factory. Each tool call
 * re-verifies the key, so revocation and the rate limit apply per call, and is audited on the
 * key's tenant with channel `mcp`.
 */
export async function serveHubOverStdio(options: StdioOptions = {}): Promise<StdioHandle> {
  const env = options.env ?? process.env
  const source = stdioCredentialSource(env)
  const config = loadConfig(env)
  const mcpConfig = loadMcpConfig(config, env)
  const logger = options.logger ?? pino({ level: config.logLevel, name: 'nl2q-mcp' }, pino.destination(2))
  const hub = await createHubApp(config, { logger, noConnectors: true })

  let principal: Principal
  let authorize: ReturnType<typeof createKeyGate>
  try {
    const credential = readStdioCredential(source)
    authorize = createKeyGate(hub.app, credential.apiKey)
    principal = await authorize()
    if (credential.expectedTenant !== undefined && principal.tenant !== credential.expectedTenant) {
      throw new HubError('FORBIDDEN', 'The key in NL2Q_KEY_FILE belongs to another tenant than NL2Q_TENANT')
    }
  } catch (err) {
    await hub.close()
    throw err
  }

  const facts = (signal?: AbortSignal): RequestContext => ({
    requestId: randomUUID(),
    clientIp: null,
    channel: MCP_CHANNEL,
    ...(signal ? { signal } : {}),
  })
  const session: McpSession = {
    principal,
    hub: bindHub(hub.services.hub, principal, facts()),
    open: async (signal) => {
      const current = await authorize(signal)
      if (current.tenant !== principal.tenant) throw new HubError('FORBIDDEN', 'The key changed tenant')
      const rc = facts(signal)
      return {
        hub: bindHub(hub.services.hub, current, rc),
        audit: bindAudit(hub.services.hub, current, rc),
        signal,
      }
    },
    limits: mcpConfig.limits,
    logger,
  }
  const server = serveStdio(() => createMcpServer(session), {
    ...(options.transport ? { transport: options.transport } : {}),
    onerror: (err) => logger.warn({ err }, 'MCP stdio error'),
  })
  logger.info({ tenant: principal.tenant, subject: principal.subject }, 'MCP server ready on stdio')

  let closing: Promise<void> | undefined
  return {
    principal,
    hub,
    close() {
      closing ??= (async () => {
        await server.close().catch((err) => logger.warn({ err }, 'MCP stdio close failed'))
        await hub.close()
      })()
      return closing
    },
  }
}
