import {
  type Client,
  connectHttp,
  createKey,
  type DemoHub,
  REVISIONS,
  serveOnLoopback,
  startDemoHub,
} from '@nl2q/mcp-server/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

/**
 * Strict MCP clients (the Inspector, the SDK's own Client) validate a tool's structuredContent
 * against its outputSchema. The SDK client does so once it holds the tools/list answer, so each
 * client here lists the tools first and then calls every one of them: a field the schema does not
 * declare, or a declared one of the wrong type, fails the call with -32602.
 */
const ARGUMENTS: Record<string, Record<string, unknown>> = {
  ask: { question: 'Total TRx by product in 2024' },
  list_datasets: {},
  describe_dataset: { name: 'prescriptions' },
  run_sql: { sql: 'SELECT product_name, list_price FROM products ORDER BY product_name' },
}

let hub: DemoHub
let server: { url: string; close(): Promise<void> }
const keys: Record<string, string> = {}
const clients: Client[] = []

beforeAll(async () => {
  hub = await startDemoHub()
  server = await serveOnLoopback(hub.running.app)
  keys.admin = hub.keys.acme!
  keys.viewer = (await createKey(hub.running.app, hub.keys.acme!, 'viewer')).secret
})

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close().catch(() => undefined)))
  await server?.close()
  await hub?.close()
})

describe.each(REVISIONS)('MCP tool outputs against their output schemas, protocol %s', (revision) => {
  it.each(['admin', 'viewer'])(
    'returns structured content every listed tool declares, for an %s',
    async (role) => {
      const c = await connectHttp(server.url, keys[role]!, revision)
      clients.push(c)
      const { tools } = await c.listTools()
      expect(tools.length).toBeGreaterThanOrEqual(3)
      for (const tool of tools) {
        expect(tool.outputSchema, tool.name).toBeDefined()
        const args = ARGUMENTS[tool.name]
        expect(args, `no sample arguments for tool ${tool.name}`).toBeDefined()
        const result = await c.callTool({ name: tool.name, arguments: args })
        expect(result.isError, `${tool.name}: ${JSON.stringify(result.content)}`).toBeFalsy()
        expect(result.structuredContent, tool.name).toBeDefined()
      }
    },
  )

  it('declares the plan of an answer with the hub QueryPlan schema and validates the answer against it', async () => {
    const c = await connectHttp(server.url, keys.admin!, revision)
    clients.push(c)
    const { tools } = await c.listTools()
    const ask = tools.find((t) => t.name === 'ask')
    const properties = (ask?.outputSchema?.properties ?? {}) as Record<string, { properties?: object }>
    const plan = properties.plan
    expect(Object.keys(plan?.properties ?? {})).toEqual(
      expect.arrayContaining(['dataset', 'measures', 'dimensions', 'filter', 'order', 'limit']),
    )
    const result = await c.callTool({ name: 'ask', arguments: ARGUMENTS.ask })
    expect(result.isError).toBeFalsy()
    expect((result.structuredContent as { plan: { dataset: string } }).plan.dataset).toBe('prescriptions')
  })

  it('describes a dataset with its primary key and which measures are derived', async () => {
    const c = await connectHttp(server.url, keys.admin!, revision)
    clients.push(c)
    await c.listTools()
    const result = await c.callTool({ name: 'describe_dataset', arguments: { name: 'prescriptions' } })
    const dataset = result.structuredContent as {
      primaryKey: string[]
      measures: { name: string; derived: boolean }[]
    }
    expect(dataset.primaryKey).toEqual(['rx_id'])
    expect(dataset.measures.every((m) => typeof m.derived === 'boolean')).toBe(true)
  })
})
