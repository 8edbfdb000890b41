import { mkdtempSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadConfig } from '../config/index.ts'
import { generateKey, keyRingOf, loadKeyRing, writeKeyFile } from './key-ring.ts'
import { createSecretBox } from './secret-box.ts'

const URL = 'mysql://app:s3cret-pw@127.0.0.1:3306/north'

describe('SecretBox', () => {
  it('seals with a fresh IV each time, names its key, and opens what it sealed', () => {
    const key = generateKey()
    const box = createSecretBox(keyRingOf(key, [], 'test'))
    const a = box.seal(URL, 'tenants.db_url:north')
    const b = box.seal(URL, 'tenants.db_url:north')
    expect(a).not.toBe(b)
    expect(a).not.toContain('s3cret')
    expect(a.startsWith(`nl2q:v1:${key.id}:`)).toBe(true)
    expect(box.keyIdOf(a)).toBe(key.id)
    expect(box.open(a, 'tenants.db_url:north')).toBe(URL)
  })

  it('opens a value sealed with a previous key of the ring, and passes plaintext through', () => {
    const old = generateKey()
    const sealed = createSecretBox(keyRingOf(old, [], 'test')).seal(URL, 'c')
    const box = createSecretBox(keyRingOf(generateKey(), [old], 'test'))
    expect(box.open(sealed, 'c')).toBe(URL)
    expect(box.open(URL, 'c')).toBe(URL)
    expect(box.keyIdOf(URL)).toBeNull()
  })

  it('refuses, with a message naming the missing key, a value sealed with a key it does not hold', () => {
    const sealed = createSecretBox(keyRingOf(generateKey(), [], 'test')).seal(URL, 'c')
    const other = createSecretBox(keyRingOf(generateKey(), [], 'HUB_SECRET_KEY'))
    expect(() => other.open(sealed, 'c')).toThrow(/not in the key ring \(HUB_SECRET_KEY/)
  })

  it('refuses an altered value or one moved to another row instead of returning garbage', () => {
    const box = createSecretBox(keyRingOf(generateKey(), [], 'test'))
    const sealed = box.seal(URL, 'tenants.db_url:north')
    expect(() => box.open(sealed, 'tenants.db_url:south')).toThrow(/cannot be decrypted/)
    // the second-to-last character carries only data bits; replace it with a different one
    const flipped = sealed.slice(0, -2) + (sealed.at(-2) === 'A' ? 'B' : 'A') + sealed.slice(-1)
    expect(flipped).not.toBe(sealed)
    expect(() => box.open(flipped, 'tenants.db_url:north')).toThrow(/cannot be decrypted|malformed/)
  })

  it('generates HUB_HOME/secret.key 0600 once and re-reads it when a rotation adds a key', () => {
    const home = mkdtempSync(join(tmpdir(), 'nl2q-secrets-'))
    const ring = loadKeyRing({ home })
    expect(statSync(join(home, 'secret.key')).mode & 0o777).toBe(0o600)
    expect(loadKeyRing({ home }).current.id).toBe(ring.current.id)
    const box = createSecretBox(ring)
    const next = generateKey()
    writeKeyFile(join(home, 'secret.key'), [next, ring.current])
    const sealedByRotation = createSecretBox(keyRingOf(next, [], 'x')).seal(URL, 'c')
    expect(box.open(sealedByRotation, 'c')).toBe(URL)
  })

  it('refuses a key file readable by others', () => {
    const home = mkdtempSync(join(tmpdir(), 'nl2q-secrets-'))
    writeFileSync(join(home, 'secret.key'), `${generateKey().key.toString('base64')}\n`, { mode: 0o644 })
    expect(() => loadKeyRing({ home })).toThrow(/readable by group or others/)
  })
})

describe('HUB_SECRET_KEY', () => {
  it('accepts 32 bytes as hex or base64 and rejects anything else without echoing it', () => {
    const key = generateKey().key
    expect(loadConfig({ HUB_SECRET_KEY: key.toString('hex') }).secrets.key).toEqual(key)
    expect(loadConfig({ HUB_SECRET_KEY: key.toString('base64') }).secrets.key).toEqual(key)
    expect(
      loadConfig({ HUB_SECRET_KEY_PREVIOUS: `${key.toString('hex')},${key.toString('base64url')}` }).secrets
        .previous,
    ).toEqual([key, key])
    expect(() => loadConfig({ HUB_SECRET_KEY: 'too-short-secret' })).toThrow(
      /HUB_SECRET_KEY: must be 32 bytes/,
    )
    expect(() => loadConfig({ HUB_SECRET_KEY: 'too-short-secret' })).not.toThrow(/too-short/)
  })

  it('is read from HUB_SECRET_KEY_FILE', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nl2q-secrets-'))
    const key = generateKey().key
    writeFileSync(join(dir, 'k'), `${key.toString('base64')}\n`)
    expect(loadConfig({ HUB_SECRET_KEY_FILE: join(dir, 'k') }).secrets.key).toEqual(key)
  })
})
