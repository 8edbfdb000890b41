import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createApiKey,
  createAuthenticator,
  listApiKeys,
  revokeApiKey,
} from '../packages/core/src/auth/index.ts'
import { loadConfig } from '../packages/core/src/config/index.ts'
import { type MetadataStore, openMetadataStore } from '../packages/core/src/metadata/store.ts'
import { createTestDatabase } from './helpers/mysql.ts'

async function sqlite() {
  const home = mkdtempSync(join(tmpdir(), 'nl2q-keys-'))
  return {
    url: `sqlite:${join(home, 'hub.sqlite')}`,
    drop: async () => rmSync(home, { recursive: true, force: true }),
  }
}
async function mariadb() {
  const db = await createTestDatabase('nl2q_keys')
  return { url: db.url, drop: () => db.drop() }
}

describe.each([
  ['sqlite', sqlite],
  ['mariadb', mariadb],
] as const)('API key store on %s', (_name, backend) => {
  let env: Awaited<ReturnType<typeof sqlite>>
  let store: MetadataStore

  beforeAll(async () => {
    env = await backend()
    store = openMetadataStore(env.url)
    await store.migrate()
    const created_at = new Date().toISOString()
    await store.knex('tenants').insert([
      { id: 'acme', db_url: 'sqlite:a.sqlite', created_at, settings: '{}' },
      { id: 'globex', db_url: 'sqlite:g.sqlite', created_at, settings: '{}' },
      { id: 'doomed', db_url: 'sqlite:d.sqlite', created_at, settings: '{}' },
    ])
  })
  afterAll(async () => {
    await store?.close()
    await env?.drop()
  })

  it('stores only a SHA-256 of the secret and never lists the hash', async () => {
    const key = await createApiKey(store, { tenant: 'acme', role: 'viewer', label: 'x' })
    const row = await store.knex('api_keys').where({ id: key.id }).first()
    expect(row.secret_hash).toMatch(/^[0-9a-f]{64}$/)
    expect(Object.values(row).join(' ')).not.toContain(key.secret.slice(22))
    const listed = await listApiKeys(store, 'acme')
    expect(listed.find((k) => k.id === key.id)).toEqual({
      id: key.id,
      tenant: 'acme',
      role: 'viewer',
      attributes: {},
      label: 'x',
      createdBy: null,
      createdAt: key.createdAt,
      expiresAt: null,
      revokedAt: null,
      lastUsedAt: null,
    })
    expect(JSON.stringify(listed)).not.toMatch(/hash|secret/)
  })

  it('gives every key a different id and secret', async () => {
    const keys = await Promise.all(
      Array.from({ length: 20 }, () => createApiKey(store, { tenant: 'globex', role: 'viewer' })),
    )
    expect(new Set(keys.map((k) => k.id)).size).toBe(20)
    expect(new Set(keys.map((k) => k.secret)).size).toBe(20)
  })

  it('revokes only within the tenant: another tenant’s id is NOT_FOUND and stays valid', async () => {
    const key = await createApiKey(store, { tenant: 'globex', role: 'analyst' })
    await expect(revokeApiKey(store, 'acme', key.id)).rejects.toMatchObject({
      code: 'NOT_FOUND',
      status: 404,
    })
    expect((await store.knex('api_keys').where({ id: key.id }).first()).revoked_at).toBeNull()
    const revoked = await revokeApiKey(store, 'globex', key.id)
    expect(revoked.revokedAt).not.toBeNull()
    expect((await revokeApiKey(store, 'globex', key.id)).revokedAt).toBe(revoked.revokedAt)
  })

  it('refuses keys for unknown tenants, unknown roles and bad attributes', async () => {
    await expect(createApiKey(store, { tenant: 'nope', role: 'viewer' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    })
    await expect(createApiKey(store, { tenant: 'acme', role: 'root' as 'admin' })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    })
    await expect(
      createApiKey(store, { tenant: 'acme', role: 'viewer', attributes: { 'bad key': ['x'] } }),
    ).rejects.toMatchObject({ code: 'VALIDATION_FAILED' })
  })

  it('audits every key change in the tenant’s chain, including a refused cross-tenant revoke', async () => {
    const actor = { subject: 'admin@acme', credentialId: 'k-admin', requestId: 'req-77', channel: 'api' }
    const key = await createApiKey(store, { tenant: 'acme', role: 'viewer', actor })
    await revokeApiKey(store, 'acme', key.id, actor)
    await expect(revokeApiKey(store, 'globex', key.id, actor)).rejects.toMatchObject({ code: 'NOT_FOUND' })
    const events = await store
      .knex('audit_events')
      .where({ resource: `api_key:${key.id}` })
      .orderBy(['tenant', 'seq'])
      .select('tenant', 'action', 'outcome', 'subject', 'request_id')
    expect(events).toEqual([
      {
        tenant: 'acme',
        action: 'key.created',
        outcome: 'success',
        subject: 'admin@acme',
        request_id: 'req-77',
      },
      {
        tenant: 'acme',
        action: 'key.revoked',
        outcome: 'success',
        subject: 'admin@acme',
        request_id: 'req-77',
      },
      {
        tenant: 'globex',
        action: 'key.revoked',
        outcome: 'failure',
        subject: 'admin@acme',
        request_id: 'req-77',
      },
    ])
  })

  it('takes a new key back when its audit record cannot be written', async () => {
    const before = await store.knex('api_keys').count({ n: '*' })
    await store.knex.schema.renameTable('audit_events', 'audit_events_away')
    try {
      await expect(createApiKey(store, { tenant: 'acme', role: 'viewer' })).rejects.toMatchObject({
        code: 'AUDIT_UNAVAILABLE',
      })
    } finally {
      await store.knex.schema.renameTable('audit_events_away', 'audit_events')
    }
    expect(await store.knex('api_keys').count({ n: '*' })).toEqual(before)
  })

  it('deletes a tenant’s keys with the tenant', async () => {
    const key = await createApiKey(store, { tenant: 'doomed', role: 'admin' })
    await store.knex('tenants').where({ id: 'doomed' }).delete()
    expect(await store.knex('api_keys').where({ id: key.id }).first()).toBeUndefined()
  })

  it('verifies a key by reading its row on every call, so a revocation applies to the next call', async () => {
    const auth = createAuthenticator({
      config: loadConfig({ HUB_HOME: tmpdir() }),
      metadata: store,
      tenants: { exists: () => true },
    })
    const key = await createApiKey(store, {
      tenant: 'acme',
      role: 'integration',
      attributes: { territories: 'ACM-T09' },
    })
    expect(await auth.verifyApiKey(key.secret)).toMatchObject({
      tenant: 'acme',
      subject: `apikey:${key.id}`,
      roles: ['integration'],
      attributes: { territories: ['ACM-T09'] },
    })
    await revokeApiKey(store, 'acme', key.id)
    await expect(auth.verifyApiKey(key.secret)).rejects.toMatchObject({ code: 'INVALID_TOKEN', status: 401 })
  })
})
