#!/usr/bin/env node
/**
 * `nl2q-mcp`: the hub as an MCP server on stdio, for desktop assistants. Reads HUB_* (where the hub
 * lives) and NL2Q_API_KEY, or NL2Q_TENANT + NL2Q_KEY_FILE; with NL2Q_URL it relays to that running hub
 * instead of opening one in-process. stdout carries MCP messages only:
 * logs and console output go to stderr.
 */
import { isHubError, loadConfig } from '@nl2q/core'
import pino from 'pino'
import { serveRemoteOverStdio } from './stdio/relay.ts'
import { serveHubOverStdio } from './stdio/serve.ts'

// Anything that writes to stdout would corrupt the protocol stream; send stray console output to stderr.
for (const method of ['log', 'info', 'debug'] as const) console[method] = console.error

async function main(): Promise<void> {
  const env = process.env
  const logger = pino({ level: loadConfig(env).logLevel, name: 'nl2q-mcp' }, pino.destination(2))
  const handle = env.NL2Q_URL
    ? await serveRemoteOverStdio({ env, logger })
    : await serveHubOverStdio({ env, logger })
  let stopping = false
  const stop = async () => {
    if (stopping) return
    stopping = true
    await handle.close()
    process.exit(0)
  }
  process.stdin.once('end', () => void stop())
  process.stdin.once('close', () => void stop())
  process.once('SIGTERM', () => void stop())
  process.once('SIGINT', () => void stop())
}

main().catch((err: unknown) => {
  const message = isHubError(err) ? `${err.code}: ${err.message}` : String(err)
  process.stderr.write(`nl2q-mcp: ${message}\n`)
  if (!isHubError(err)) process.stderr.write(`${err instanceof Error ? err.stack : ''}\n`)
  process.exit(1)
})
