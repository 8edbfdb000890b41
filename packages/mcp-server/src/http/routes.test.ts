import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createHubApp, loadConfig, type RunningHub } from '@nl2q/core'
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

let hub: RunningHub

beforeAll(async () => {
  // Loaded by name, as `hub start` does: the core resolves @nl2q/mcp-server from the application.
  const env = {
    HUB_HOME: mkdtempSync(join(tmpdir(), 'nl2q-mcp-routes-')),
    HUB_CONNECTORS: '@nl2q/mcp-server',
    HUB_RATE_LIMIT: '3',
    HUB_LOG_LEVEL: 'silent',
  }
  hub = await createHubApp(loadConfig(env), { logger: pino({ level: 'silent' }) })
})

afterAll(async () => {
  await hub?.close()
})

const post = (key: string) =>
  hub.app.request('/mcp', {
    method: 'POST',
    headers: {
      authorization: `Bearer ${key}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
  })

describe('the MCP connector loaded by name', () => {
  it('derives the resource from the request origin when no public URL is set', async () => {
    const res = await hub.app.request('/.well-known/oauth-protected-resource/mcp')
    expect(res.status).toBe(200)
    const body = (await res.json()) as Record<string, unknown>
    expect(body.resource).toBe('http://localhost/mcp')
    expect(body.authorization_servers).toBeUndefined()
    const challenge = await hub.app.request('/mcp', { method: 'POST' })
    expect(challenge.status).toBe(401)
    expect(challenge.headers.get('www-authenticate')).toBe(
      'Bearer resource_metadata="http://localhost/.well-known/oauth-protected-resource/mcp"',
    )
  })

  it('rate-limits /mcp with the shared limiter', async () => {
    const key = hub.demoKeys.find((k) => k.tenant === 'globex')!.secret
    const statuses: number[] = []
    for (let i = 0; i < 5; i++) statuses.push((await post(key)).status)
    expect(statuses.slice(0, 3)).toEqual([200, 200, 200])
    expect(statuses.at(-1)).toBe(429)
  })
})
