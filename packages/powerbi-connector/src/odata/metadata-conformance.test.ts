import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { createHubApp, loadConfig, type RunningHub } from '@nl2q/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { validateXML } from 'xmllint-wasm'
import { createPowerBiConnector } from '../connector.ts'

/**
 * `$metadata` of a real hub (demo data) against the OASIS CSDL XML schemas shipped by `odata-csdl`
 * (edmx.xsd importing edm.xsd, validated with libxml2 compiled to wasm), plus the semantic rules the
 * schemas cannot express: every set's type exists and has a key of non-nullable properties, only
 * Edm primitive types, identifier-safe names, no navigation properties.
 */
const require = createRequire(import.meta.url)
const SCHEMAS = join(dirname(require.resolve('odata-csdl/package.json')), 'schemas')
const EDM_PRIMITIVES = new Set([
  'Edm.String',
  'Edm.Int64',
  'Edm.Int32',
  'Edm.Decimal',
  'Edm.Double',
  'Edm.Boolean',
  'Edm.Date',
  'Edm.DateTimeOffset',
])

let home: string
let running: RunningHub
let key: string

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'nl2q-csdl-'))
  const config = loadConfig({
    ...process.env,
    HUB_HOME: home,
    HUB_DEMO: '1',
    HUB_LOG_LEVEL: 'silent',
    HUB_DATABASE_URL: undefined,
  })
  running = await createHubApp(config, { connectors: [createPowerBiConnector()] })
  key = readFileSync(join(home, 'acme.key'), 'utf8').trim()
}, 120_000)

afterAll(async () => {
  await running?.close()
  rmSync(home, { recursive: true, force: true })
})

async function metadata(): Promise<string> {
  const res = await running.app.request('http://hub.test/odata/$metadata', {
    headers: { authorization: `Bearer ${key}`, accept: 'application/xml' },
  })
  expect(res.status).toBe(200)
  expect(res.headers.get('content-type')).toBe('application/xml')
  expect(res.headers.get('odata-version')).toBe('4.0')
  return res.text()
}

describe('$metadata', () => {
  it('validates against the OASIS edmx.xsd and edm.xsd', async () => {
    const xml = await metadata()
    const result = await validateXML({
      xml: [{ fileName: 'metadata.xml', contents: xml }],
      schema: [{ fileName: 'edmx.xsd', contents: readFileSync(join(SCHEMAS, 'edmx.xsd'), 'utf8') }],
      preload: [{ fileName: 'edm.xsd', contents: readFileSync(join(SCHEMAS, 'edm.xsd'), 'utf8') }],
    })
    expect(result.errors.map((e) => e.rawMessage)).toEqual([])
    expect(result.valid).toBe(true)
  })

  it('the schema check can fail: a property without a Type is rejected', async () => {
    const broken = (await metadata()).replace(/<Property Name="trx" Type="[^"]+"/, '<Property Name="trx"')
    const result = await validateXML({
      xml: [{ fileName: 'metadata.xml', contents: broken }],
      schema: [{ fileName: 'edmx.xsd', contents: readFileSync(join(SCHEMAS, 'edmx.xsd'), 'utf8') }],
      preload: [{ fileName: 'edm.xsd', contents: readFileSync(join(SCHEMAS, 'edm.xsd'), 'utf8') }],
    })
    expect(result.valid).toBe(false)
  })

  it('gives every set a resolvable type with a key, Edm primitives only and safe names', async () => {
    const xml = await metadata()
    expect(xml).not.toContain('NavigationProperty')
    const types = new Map<
      string,
      { props: Map<string, { type: string; nullable: boolean }>; keys: string[] }
    >()
    for (const m of xml.matchAll(/<EntityType Name="([^"]+)">([\s\S]*?)<\/EntityType>/g)) {
      const props = new Map<string, { type: string; nullable: boolean }>()
      for (const p of (m[2] ?? '').matchAll(/<Property Name="([^"]+)" Type="([^"]+)"([^>]*)>/g))
        props.set(p[1] as string, {
          type: p[2] as string,
          nullable: !(p[3] ?? '').includes('Nullable="false"'),
        })
      const keys = [...(m[2] ?? '').matchAll(/<PropertyRef Name="([^"]+)"\/>/g)].map((k) => k[1] as string)
      types.set(m[1] as string, { props, keys })
    }
    const sets = [...xml.matchAll(/<EntitySet Name="([^"]+)" EntityType="NL2Q\.([^"]+)"/g)]
    expect(sets.map((s) => s[1])).toEqual(
      expect.arrayContaining(['prescriptions', 'products', 'hcps', 'calls']),
    )
    for (const [, name, typeName] of sets) {
      const t = types.get(typeName as string)
      expect(t, `type of ${name}`).toBeDefined()
      expect(t?.keys.length, `key of ${name}`).toBeGreaterThan(0)
      for (const k of t?.keys ?? []) expect(t?.props.get(k)?.nullable, `${name}.${k}`).toBe(false)
      for (const [prop, p] of t?.props ?? []) {
        expect(prop).toMatch(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/)
        expect(EDM_PRIMITIVES.has(p.type), `${name}.${prop}: ${p.type}`).toBe(true)
      }
    }
    expect(types.get('prescriptions')?.keys).toEqual(['rx_id'])
    // NOT NULL columns, required foreign keys included, say so; a nullable column does not.
    const rx = types.get('prescriptions')?.props
    expect(rx?.get('hcp_id')?.nullable).toBe(false)
    expect(rx?.get('product_id')?.nullable).toBe(false)
    expect(rx?.get('week_ending')?.nullable).toBe(false)
    expect(types.get('calls')?.props.get('product_id')?.nullable).toBe(true)
    expect(types.get('prescriptions')?.props.get('week_ending')?.type).toBe('Edm.Date')
  })
})
