import { Writable } from 'node:stream'
import { Client, InMemoryTransport } from '@modelcontextprotocol/client'
import { McpServer, type RegisteredTool } from '@modelcontextprotocol/server'
import type { AuditEventInput } from '@nl2q/core'
import pino from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { z } from 'zod'
import type { McpSession } from '../session.ts'
import { dispatchToolCalls } from './dispatch.ts'

const SECRET = 'SELECT * FROM secret_table WHERE password = hunter2 at /srv/hub/internal.ts:42'
const REQUEST_ID = 'req-dispatch-test'

/**
 * The dispatcher alone: two tools that misbehave past runTool (one throws a plain Error, one returns
 * structured content its output schema refuses), a session whose audit and log are recorded.
 */
async function harness() {
  const events: AuditEventInput[] = []
  const logs: Record<string, unknown>[] = []
  const sink = new Writable({
    write(chunk, _enc, done) {
      logs.push(JSON.parse(String(chunk)) as Record<string, unknown>)
      done()
    },
  })
  const session = {
    principal: { role: 'admin' },
    hub: { requestId: REQUEST_ID },
    open: async (signal: AbortSignal) => ({
      hub: { requestId: REQUEST_ID },
      audit: { append: async (e: AuditEventInput) => void events.push(e) },
      signal,
    }),
    limits: { maxRows: 10, maxBytes: 10_000 },
    logger: pino({ level: 'debug' }, sink),
  } as unknown as McpSession
  const server = new McpServer({ name: 'test', version: '0.0.0' }, { capabilities: { tools: {} } })
  const tools = new Map<string, RegisteredTool>([
    [
      'explode',
      server.registerTool('explode', { inputSchema: z.object({}) }, async () => {
        throw new Error(SECRET)
      }),
    ],
    [
      'misshapen',
      server.registerTool(
        'misshapen',
        { inputSchema: z.object({}), outputSchema: z.object({ count: z.number() }) },
        async () => {
          events.push({
            action: 'mcp.tool',
            resource: 'misshapen',
            outcome: 'success',
            rowCount: 1,
            durationMs: 1,
            detail: {},
          })
          return { content: [{ type: 'text', text: 'ok' }], structuredContent: { count: 'many' } }
        },
      ),
    ],
  ])
  dispatchToolCalls(server, session, tools)
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair()
  await server.connect(serverSide)
  const client = new Client({ name: 'dispatch-test', version: '0.0.0' })
  await client.connect(clientSide)
  opened.push(client, server)
  return { client, events, logs }
}

const opened: { close(): Promise<void> }[] = []
afterEach(async () => {
  await Promise.all(opened.splice(0).map((o) => o.close().catch(() => undefined)))
})

function text(result: { content?: unknown }): string {
  return ((result.content ?? []) as { type: string; text?: string }[]).map((c) => c.text ?? '').join('\n')
}

describe('tools/call dispatch of failures outside runTool', () => {
  it('answers a generic error naming the request id, logs the cause and audits an error when a tool throws', async () => {
    const { client, events, logs } = await harness()
    const result = await client.callTool({ name: 'explode', arguments: {} })
    expect(result.isError).toBe(true)
    expect(text(result)).not.toContain('secret_table')
    expect(text(result)).not.toContain('hunter2')
    expect(text(result)).toMatch(/^INTERNAL: /)
    expect(text(result)).toContain(`Request id: ${REQUEST_ID}`)
    expect(events).toEqual([
      expect.objectContaining({
        action: 'mcp.tool',
        resource: 'explode',
        outcome: 'error',
        detail: expect.objectContaining({ tool: 'explode', code: 'INTERNAL' }),
      }),
    ])
    const logged = logs.find((l) => l.level === 50)
    expect(JSON.stringify(logged?.err)).toContain('secret_table')
  })

  it('audits an error and answers an error result when a tool output fails its output schema', async () => {
    const { client, events } = await harness()
    await client.listTools()
    const result = await client.callTool({ name: 'misshapen', arguments: {} })
    expect(result.isError).toBe(true)
    expect(result.structuredContent).toBeUndefined()
    expect(text(result)).toMatch(/^INTERNAL: .*output schema/)
    expect(text(result)).toContain(`Request id: ${REQUEST_ID}`)
    expect(events.map((e) => e.outcome)).toEqual(['success', 'error'])
    expect(events[1]).toEqual(
      expect.objectContaining({
        resource: 'misshapen',
        detail: expect.objectContaining({ code: 'INTERNAL' }),
      }),
    )
  })
})
