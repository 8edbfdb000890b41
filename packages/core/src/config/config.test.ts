import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { HubError } from '../errors.ts'
import { loadConfig } from './index.ts'

describe('loadConfig', () => {
  it('defaults to the embedded SQLite metadata store under HUB_HOME', () => {
    const config = loadConfig({ HUB_HOME: '/tmp/nl2q-x' })
    expect(config.databaseUrl).toBe('sqlite:/tmp/nl2q-x/hub.sqlite')
    expect(config.port).toBe(8080)
    expect(config.demo).toBe(true)
    expect(config.corsOrigins).toEqual([])
    expect(config.auth.tenantClaim).toBe('tenant')
  })

  it('reads HUB_JWT_MAX_AGE as seconds or a span with a unit, and refuses anything else', () => {
    expect(loadConfig({ HUB_JWT_MAX_AGE: '90' }).auth.maxAgeSec).toBe(90)
    expect(loadConfig({ HUB_JWT_MAX_AGE: '1h' }).auth.maxAgeSec).toBe(3600)
    expect(loadConfig({ HUB_JWT_MAX_AGE: '30m' }).auth.maxAgeSec).toBe(1800)
    expect(loadConfig({}).auth.maxAgeSec).toBeUndefined()
    for (const bad of ['0', 'an hour', '-5', '1y'])
      expect(() => loadConfig({ HUB_JWT_MAX_AGE: bad })).toThrow(/HUB_JWT_MAX_AGE/)
  })

  it('names the bad variable without echoing its value', () => {
    try {
      loadConfig({ PORT: 'not-a-port-secret123' })
      expect.unreachable()
    } catch (err) {
      expect(err).toBeInstanceOf(HubError)
      expect((err as HubError).code).toBe('CONFIG_INVALID')
      expect((err as HubError).message).toContain('PORT')
      expect((err as HubError).message).not.toContain('secret123')
    }
  })

  it('rejects a metadata URL of an unsupported kind', () => {
    expect(() => loadConfig({ HUB_DATABASE_URL: 'postgres://x/y' })).toThrow(/HUB_DATABASE_URL/)
  })

  it('reads secrets from *_FILE variants', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nl2q-cfg-'))
    const file = join(dir, 'url')
    writeFileSync(file, 'mysql://u:p@127.0.0.1:3306/meta\n')
    expect(loadConfig({ HUB_DATABASE_URL_FILE: file }).databaseUrl).toBe('mysql://u:p@127.0.0.1:3306/meta')
  })

  it('requires issuer and audience once a JWT key source is set, and only one key source', () => {
    expect(() => loadConfig({ HUB_JWT_SECRET: 'x'.repeat(32) })).toThrow(/HUB_JWT_ISSUER/)
    expect(() =>
      loadConfig({
        HUB_JWT_SECRET: 'x'.repeat(32),
        HUB_JWKS_URL: 'https://idp.example/jwks',
        HUB_JWT_ISSUER: 'i',
        HUB_JWT_AUDIENCE: 'a',
      }),
    ).toThrow(/only one/)
    expect(() => loadConfig({ HUB_JWT_SECRET: 'short' })).toThrow(/HUB_JWT_SECRET/)
  })

  it('parses comma lists and booleans', () => {
    const c = loadConfig({ HUB_CORS_ORIGINS: 'https://a.example, https://b.example', HUB_DEMO: '0' })
    expect(c.corsOrigins).toEqual(['https://a.example', 'https://b.example'])
    expect(c.demo).toBe(false)
  })
})
