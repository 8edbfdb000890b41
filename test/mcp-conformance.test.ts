import { execFile } from 'node:child_process'
import { createServer, request, type Server } from 'node:http'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { type DemoHub, serveOnLoopback, startDemoHub } from '@nl2q/mcp-server/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

/**
 * The official conformance suite (@modelcontextprotocol/conformance 0.1.13, the last release that
 * runs on Node 20; 0.1.14+ need fs.globSync from Node 22) against the hub's /mcp. The suite has no
 * way to send credentials, so it talks to a loopback proxy that adds an API key and forwards every
 * other header untouched (Host and Origin included, which the DNS-rebinding scenario depends on).
 * The "valid" half of that scenario sends Origin http://localhost:<port>: an origin is accepted only
 * when configured, so the hub lists the proxy's origin in HUB_CORS_ORIGINS, as an operator would.
 */
const ROOT = resolve(import.meta.dirname, '..')
const CONFORMANCE = join(ROOT, 'packages/mcp-server/node_modules/.bin/conformance')
const run = promisify(execFile)

let hub: DemoHub
let upstream: { url: string; close(): Promise<void> }
let proxy: Server
let proxyPort: number

beforeAll(async () => {
  proxy = createServer()
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()))
  proxyPort = (proxy.address() as { port: number }).port
  hub = await startDemoHub({
    HUB_CORS_ORIGINS: `http://localhost:${proxyPort},http://127.0.0.1:${proxyPort}`,
  })
  upstream = await serveOnLoopback(hub.running.app)
  const target = new URL(upstream.url)
  proxy.on('request', (req, res) => {
    const forwarded = request(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, authorization: `Bearer ${hub.keys.acme}` },
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers)
        answer.pipe(res)
      },
    )
    forwarded.on('error', () => res.destroy())
    req.pipe(forwarded)
  })
})

afterAll(async () => {
  await new Promise((r) => proxy?.close(r))
  await upstream?.close()
  await hub?.close()
})

describe('MCP conformance suite (server scenarios)', () => {
  it.each([
    'server-initialize',
    'ping',
    'tools-list',
    'resources-list',
    'prompts-list',
    'dns-rebinding-protection',
  ])('passes %s', async (scenario) => {
    const { stdout } = await run(
      CONFORMANCE,
      ['server', '--url', `http://localhost:${proxyPort}/mcp`, '--scenario', scenario],
      { timeout: 60_000 },
    )
    expect(stdout).toMatch(/Passed: (\d+)\/\1, 0 failed/)
  })
})
