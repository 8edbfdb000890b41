import { mkdirSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { type ServerType, serve } from '@hono/node-server'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { launchChromium } from './helpers/chromium.ts'
import { createTestHub, type TestHub } from './helpers/hub.ts'

const ARTIFACTS = join(import.meta.dirname, '..', '.tmp', 'artifacts')
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]'])

interface Media {
  schema?: { $ref?: string; example?: unknown }
  example?: unknown
  examples?: unknown
}
interface Operation {
  requestBody?: { content: Record<string, Media> }
  responses: Record<string, { content?: Record<string, Media> }>
}
interface OpenApiDoc {
  info: { description: string }
  paths: Record<string, Record<string, Operation>>
  components: {
    schemas: Record<string, { example?: unknown }>
    securitySchemes: Record<string, { type: string; scheme: string }>
  }
}

/** A media type shows an example: its own, or its schema's (through a component $ref). */
function hasExample(media: Media): boolean {
  if (media.example !== undefined || media.examples !== undefined) return true
  const ref = media.schema?.$ref?.replace('#/components/schemas/', '')
  const schema = ref ? doc.components.schemas[ref] : media.schema
  return schema?.example !== undefined
}

let hub: TestHub
let server: ServerType
let base: string
let browser: Browser
let doc: OpenApiDoc

beforeAll(async () => {
  // the connectors too (MCP, Power BI), as `hub start` loads them
  hub = await createTestHub({ noConnectors: false })
  server = await new Promise<ServerType>((resolve) => {
    const s = serve({ fetch: hub.app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s))
  })
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  doc = (await (await fetch(`${base}/openapi.json`)).json()) as OpenApiDoc
  browser = await launchChromium()
})

afterAll(async () => {
  await browser?.close()
  await new Promise((r) => server?.close(r))
  await hub?.close()
})

describe('the API reference', () => {
  it('redirects / to /docs and lists the health probes at /health', async () => {
    const root = await fetch(`${base}/`, { redirect: 'manual' })
    expect(root.status).toBe(302)
    expect(root.headers.get('location')).toBe('/docs')
    const health = (await (await fetch(`${base}/health`)).json()) as { probes: { path: string }[] }
    expect(health.probes.map((p) => p.path)).toEqual(['/health/live', '/health/ready'])
  })

  it('documents the security schemes and the other doors (/mcp, /odata, the .mez, /metrics)', () => {
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' })
    expect(doc.components.securitySchemes.basic).toMatchObject({ type: 'http', scheme: 'basic' })
    for (const door of ['/mcp', '/odata', '/powerbi/NL2Q.mez', '/metrics', 'packages/mcp-server/README.md'])
      expect(doc.info.description).toContain(door)
  })

  it('describes the plan of an answer with the QueryPlan schema, not a free-form record', () => {
    type JsonSchema = { properties: Record<string, unknown>; required?: string[] }
    const schemas = (doc.components as unknown as { schemas: Record<string, JsonSchema> }).schemas
    expect(schemas.AskResponse?.properties.plan).toEqual({ $ref: '#/components/schemas/QueryPlan' })
    expect(schemas.QueryPlan?.required).toContain('dataset')
    expect(Object.keys(schemas.QueryPlan?.properties ?? {})).toEqual(
      expect.arrayContaining(['dataset', 'measures', 'dimensions', 'filter', 'having', 'order', 'limit']),
    )
    expect(JSON.stringify(schemas.QueryPlan?.properties.filter)).toContain('#/components/schemas/PlanFilter')
    expect(schemas.Dataset?.required).toEqual(
      expect.arrayContaining(['primaryKey', 'measures', 'dimensions']),
    )
  })

  it('resolves every $ref of the document to one of its components', () => {
    const refs = new Set<string>()
    JSON.stringify(doc, (key, value: unknown) => {
      if (key === '$ref') refs.add(String(value))
      return value
    })
    expect(refs.size).toBeGreaterThan(5)
    const components = doc.components as unknown as Record<string, Record<string, unknown>>
    const unresolved = [...refs].filter((ref) => {
      const [, , kind, name] = ref.split('/')
      return !ref.startsWith('#/components/') || !components[kind!]?.[name!]
    })
    expect(unresolved).toEqual([])
  })

  it('gives every operation an example request body and success response', () => {
    const missing: string[] = []
    for (const [path, item] of Object.entries(doc.paths))
      for (const [method, op] of Object.entries(item)) {
        const media = [
          ...Object.values(op.requestBody?.content ?? {}),
          ...Object.entries(op.responses)
            .filter(([status]) => status.startsWith('2'))
            .flatMap(([, r]) => Object.values(r.content ?? {})),
        ]
        if (media.some((m) => !hasExample(m))) missing.push(`${method.toUpperCase()} ${path}`)
      }
    expect(missing).toEqual([])
  })

  it('renders every operation in headless Chromium, offline, with no console error', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
    const errors: string[] = []
    const hosts = new Set<string>()
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text())
    })
    page.on('pageerror', (e) => errors.push(e.message))
    page.on('request', (r) => {
      const url = new URL(r.url())
      if (url.protocol.startsWith('http')) hosts.add(url.host.replace(/:\d+$/, ''))
    })
    await page.goto(`${base}/`)
    expect(new URL(page.url()).pathname).toBe('/docs')
    const expected = Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`),
    )
    const opblocks = page.locator('.opblock')
    await expect.poll(() => opblocks.count(), { timeout: 30_000 }).toBe(expected.length)
    const rendered = await opblocks.evaluateAll((blocks) =>
      blocks.map(
        (b) =>
          `${b.querySelector('.opblock-summary-method')?.textContent} ${b.querySelector('.opblock-summary-path')?.getAttribute('data-path')}`,
      ),
    )
    expect(rendered.sort()).toEqual(expected.sort())
    await expect.poll(() => page.locator('.info .title').textContent()).toContain('NL2Q Hub')
    expect(await page.locator('.info').textContent()).toContain('Other doors')
    expect(await page.locator('button.authorize').count()).toBe(1)

    // request and response schemas resolved from components, with examples
    await page.locator('.opblock-post:has([data-path="/v1/ask"]) .opblock-summary').click()
    const ask = page.locator('.opblock-post:has([data-path="/v1/ask"]) .opblock-body')
    await expect.poll(() => ask.textContent()).toContain('Tirosint')
    expect(await ask.textContent()).not.toContain('$ref')

    mkdirSync(ARTIFACTS, { recursive: true })
    await page.screenshot({ path: join(ARTIFACTS, 'api-reference.png'), fullPage: false })
    expect(errors).toEqual([])
    expect([...hosts].filter((h) => !LOOPBACK.has(h))).toEqual([])
    await page.close()
  })
})
