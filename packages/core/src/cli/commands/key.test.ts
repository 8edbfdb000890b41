import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAuthenticator } from '../../auth/index.ts'
import { loadConfig } from '../../config/index.ts'
import { type MetadataStore, openMetadataStore } from '../../metadata/store.ts'
import { parseDuration } from './key.ts'
import { runHub } from './run-hub.test-helper.ts'

describe('hub key', () => {
  const home = mkdtempSync(join(tmpdir(), 'nl2q-cli-key-'))
  let store: MetadataStore

  beforeAll(async () => {
    store = openMetadataStore(`sqlite:${join(home, 'hub.sqlite')}`)
    await store.migrate()
    await store
      .knex('tenants')
      .insert({ id: 'acme', db_url: 'sqlite:a.sqlite', created_at: new Date().toISOString() })
  })
  afterAll(async () => {
    await store.close()
    rmSync(home, { recursive: true, force: true })
  })

  it('creates a key that authenticates, lists it without the secret, and revokes it', async () => {
    const created = await runHub(home, [
      'key',
      'create',
      '--tenant',
      'acme',
      '--role',
      'analyst',
      '--attr',
      'territories=ACM-T01',
      '--attr',
      'territories=ACM-T02,ACM-T03',
      '--expires',
      '30d',
      '--json',
    ])
    const key = JSON.parse(created.out) as { id: string; secret: string; expiresAt: string }
    expect(key.secret).toMatch(/^nl2q_/)
    expect(Date.parse(key.expiresAt) - Date.now()).toBeGreaterThan(29 * 86_400_000)
    const auth = createAuthenticator({
      config: loadConfig({ HUB_HOME: home }),
      metadata: store,
      tenants: { exists: () => true },
    })
    expect(await auth.verifyApiKey(key.secret)).toMatchObject({
      tenant: 'acme',
      roles: ['analyst'],
      attributes: { territories: ['ACM-T01', 'ACM-T02', 'ACM-T03'] },
    })
    const listed = await runHub(home, ['key', 'list', '--tenant', 'acme'])
    expect(listed.out).toContain(key.id)
    expect(listed.out).not.toContain(key.secret.slice(22))
    expect((await runHub(home, ['key', 'revoke', key.id])).out).toContain('revoked')
    await expect(auth.verifyApiKey(key.secret)).rejects.toMatchObject({ code: 'INVALID_TOKEN' })
    const actions = (await store.knex('audit_events').where({ tenant: 'acme' }).orderBy('seq')).map(
      (e: { action: string; channel: string }) => `${e.action}/${e.channel}`,
    )
    expect(actions).toEqual(['key.created/cli', 'key.revoked/cli'])
  })

  it('prints the secret once in text mode, with a warning', async () => {
    const { out } = await runHub(home, ['key', 'create', '--tenant', 'acme', '--role', 'viewer'])
    expect(out.split('\n')[0]).toMatch(/^nl2q_[0-9a-f]{16}_/)
    expect(out).toContain('only time the key is shown')
  })

  it('refuses an unknown role or tenant', async () => {
    await expect(runHub(home, ['key', 'create', '--tenant', 'acme', '--role', 'root'])).rejects.toThrow(
      /admin, analyst/,
    )
    await expect(
      runHub(home, ['key', 'create', '--tenant', 'nope', '--role', 'viewer']),
    ).rejects.toMatchObject({
      code: 'NOT_FOUND',
    })
  })

  it('parses durations', () => {
    expect(parseDuration('30d')).toBe(2_592_000)
    expect(parseDuration('90m')).toBe(5400)
    expect(() => parseDuration('soon')).toThrow()
  })
})
