import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../packages/core/src/config/index.ts'
import { openMetadataStore } from '../packages/core/src/metadata/store.ts'
import {
  createSecretBox,
  generateKey,
  keyRingOf,
  readKeyFile,
  secretContext,
  writeKeyFile,
} from '../packages/core/src/secrets/index.ts'
import { createLogger } from '../packages/core/src/service/logger.ts'
import { createHubApp } from '../packages/core/src/service/server.ts'
import { DEMO_CACHE } from './global-setup.ts'
import { runHub } from './helpers/cli.ts'

const home = mkdtempSync(join(tmpdir(), 'nl2q-secrets-e2e-'))
const acmeDb = join(home, 'acme.sqlite')
const PASSWORD = 'hunter2-at-rest'
const NORTH = `mysql://app:${PASSWORD}@127.0.0.1:1/north`
afterAll(() => rmSync(home, { recursive: true, force: true }))

const hub = (args: string[], env: Record<string, string> = {}) =>
  runHub(args, { HUB_HOME: home, HUB_DEMO: '0', ...env })

async function storedUrls(): Promise<Record<string, string>> {
  const store = openMetadataStore(`sqlite:${join(home, 'hub.sqlite')}`)
  try {
    const rows = (await store.knex('tenants').select('id', 'db_url')) as { id: string; db_url: string }[]
    return Object.fromEntries(rows.map((r) => [r.id, r.db_url]))
  } finally {
    await store.close()
  }
}
const keyIdOf = (sealed: string | undefined) => /^nl2q:v1:([0-9a-f]{16}):/.exec(sealed ?? '')?.[1]
const ask = (env: Record<string, string> = {}) =>
  hub(['ask', '--tenant', 'acme', '--json', 'How many HCPs are there?'], env)

beforeAll(async () => {
  copyFileSync(join(DEMO_CACHE, 'acme.sqlite'), acmeDb)
  // A tenant registered by a hub from before encryption: its URL is plaintext in the store.
  const store = openMetadataStore(`sqlite:${join(home, 'hub.sqlite')}`, home)
  await store.migrate()
  await store.knex('tenants').insert({
    id: 'acme',
    db_url: `sqlite:${acmeDb}`,
    model: 'pharma',
    settings: '{}',
    created_at: new Date().toISOString(),
  })
  await store.close()
})

describe('tenant database URLs at rest', () => {
  it('stores a new tenant URL encrypted: the password is in no byte of the metadata store', async () => {
    const added = await hub(['tenant', 'add', 'north', '--db', NORTH, '--no-check'])
    expect(added.stderr).toBe('')
    expect((await storedUrls()).north).toMatch(/^nl2q:v1:[0-9a-f]{16}:/)
    expect(readFileSync(join(home, 'hub.sqlite')).includes(PASSWORD)).toBe(false)
    expect((await hub(['tenant', 'list'])).stdout).toContain('north\tmysql')
  })

  it('encrypts a plaintext URL from an older hub at start, and the tenant keeps answering', async () => {
    expect((await storedUrls()).acme).toBe(`sqlite:${acmeDb}`)
    const running = await createHubApp(
      loadConfig({ HUB_HOME: home, HUB_DEMO: '0', HUB_LOG_LEVEL: 'silent' }),
      {
        logger: createLogger('silent'),
        noConnectors: true,
      },
    )
    await running.close()
    expect(keyIdOf((await storedUrls()).acme)).toBeDefined()
    const answered = await ask()
    expect(answered.stderr).toBe('')
    expect(JSON.parse(answered.stdout).rowCount).toBe(1)
  })

  it('hub secrets rotate re-encrypts every URL with a new key file and drops the old key', async () => {
    const before = readKeyFile(join(home, 'secret.key'))
    expect(before).toHaveLength(1)
    const rotated = await hub(['secrets', 'rotate'])
    expect(rotated.stderr).toBe('')
    expect(rotated.stdout).toMatch(/^2 secret\(s\) re-encrypted with the new key [0-9a-f]{16}/)
    const after = readKeyFile(join(home, 'secret.key'))
    expect(after).toHaveLength(1)
    expect(after[0]!.id).not.toBe(before[0]!.id)
    const urls = await storedUrls()
    expect([keyIdOf(urls.acme), keyIdOf(urls.north)]).toEqual([after[0]!.id, after[0]!.id])
    expect(JSON.parse((await ask()).stdout).rowCount).toBe(1)
  })

  it('rotates to HUB_SECRET_KEY with the old key in HUB_SECRET_KEY_PREVIOUS, and a wrong key is a clear error', async () => {
    const fileKey = readKeyFile(join(home, 'secret.key'))[0]!
    const next = generateKey()
    const env = { HUB_SECRET_KEY: next.key.toString('hex') }
    const missing = await hub(['tenant', 'list'], env)
    expect(missing.code).toBe(2)
    expect(missing.stderr).toContain(`is encrypted with key ${fileKey.id}, which is not in the key ring`)
    expect(missing.stderr).toContain('[CONFIG_INVALID]')
    expect(missing.stderr).not.toContain(PASSWORD)

    const rotated = await hub(['secrets', 'rotate'], {
      ...env,
      HUB_SECRET_KEY_PREVIOUS: fileKey.key.toString('base64'),
    })
    expect(rotated.stdout).toMatch(/^2 secret\(s\) re-encrypted with HUB_SECRET_KEY/)
    expect(keyIdOf((await storedUrls()).north)).toBe(next.id)
    expect(JSON.parse((await ask(env)).stdout).rowCount).toBe(1)
    // The key file no longer opens them: the error names the key that would.
    expect((await ask()).stderr).toContain(`encrypted with key ${next.id}`)
  })
})

describe('hub secrets rotate after a crash', () => {
  it('finishes a rotation that stopped half-way: every row is readable meanwhile and none is lost', async () => {
    const crashed = mkdtempSync(join(tmpdir(), 'nl2q-secrets-crash-'))
    try {
      const [k1, k2] = [generateKey(), generateKey()]
      const sealWith = (k: typeof k1, id: string, url: string) =>
        createSecretBox(keyRingOf(k, [], 'test')).seal(url, secretContext('tenants', 'db_url', id))
      // The state a crash leaves: the new key first in the file, the old one kept, rows on either.
      const store = openMetadataStore(`sqlite:${join(crashed, 'hub.sqlite')}`, crashed)
      await store.migrate()
      const created_at = new Date().toISOString()
      await store.knex('tenants').insert([
        { id: 'east', db_url: sealWith(k1, 'east', NORTH), settings: '{}', created_at },
        { id: 'west', db_url: sealWith(k2, 'west', NORTH), settings: '{}', created_at },
      ])
      await store.close()
      writeKeyFile(join(crashed, 'secret.key'), [k2, k1])
      const env = { HUB_HOME: crashed, HUB_DEMO: '0' }

      expect((await runHub(['tenant', 'list'], env)).stdout).toMatch(/east\tmysql[\s\S]*west\tmysql/)
      const rotated = await runHub(['secrets', 'rotate'], env)
      expect(rotated.stdout).toMatch(/^2 secret\(s\) re-encrypted with the new key/)
      const [k3, ...rest] = readKeyFile(join(crashed, 'secret.key'))
      expect(rest).toEqual([])
      const reopened = openMetadataStore(`sqlite:${join(crashed, 'hub.sqlite')}`)
      const rows = (await reopened.knex('tenants').select('db_url')) as { db_url: string }[]
      await reopened.close()
      expect(rows.map((r) => keyIdOf(r.db_url))).toEqual([k3!.id, k3!.id])
      expect((await runHub(['tenant', 'list'], env)).stdout).toMatch(/east\tmysql[\s\S]*west\tmysql/)
    } finally {
      rmSync(crashed, { recursive: true, force: true })
    }
  })
})
