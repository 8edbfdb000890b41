import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import { HubError } from '../errors.ts'
import { type KeyRing, loadKeyRing } from './key-ring.ts'

/**
 * Encrypts secrets stored at rest (tenant database URLs today, connector credentials later) with
 * AES-256-GCM: a random 96-bit IV per value, the auth tag, and `context` (e.g. `tenant:acme:db_url`)
 * as additional data so a sealed value cannot be moved to another row. A sealed value names its
 * key: `nl2q:v1:<key id>:<iv>:<tag>:<ciphertext>` (base64url), so a rotation can stop and resume.
 */
export interface SecretBox {
  seal(plaintext: string, context: string): string
  /** The plaintext of a sealed value; a value that is not sealed (stored before encryption) as is. */
  open(stored: string, context: string): string
  /** The key id a stored value is sealed with, or null if it is plaintext. */
  keyIdOf(stored: string): string | null
  /** The id of the key `seal` uses. */
  currentKeyId(): string
}

const PREFIX = 'nl2q:v1:'
const SEALED = /^nl2q:v1:([0-9a-f]{16}):([A-Za-z0-9_-]{16}):([A-Za-z0-9_-]{22}):([A-Za-z0-9_-]*)$/

export function createSecretBox(ring: KeyRing): SecretBox {
  const keyFor = (id: string) => {
    let key = ring.get(id)
    if (!key && ring.reload) {
      ring.reload()
      key = ring.get(id)
    }
    return key
  }
  return {
    seal(plaintext, context) {
      const { id, key } = ring.current
      const iv = randomBytes(12)
      const cipher = createCipheriv('aes-256-gcm', key, iv)
      cipher.setAAD(Buffer.from(context, 'utf8'))
      const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()])
      const tag = cipher.getAuthTag()
      return `${PREFIX}${id}:${iv.toString('base64url')}:${tag.toString('base64url')}:${data.toString('base64url')}`
    },
    open(stored, context) {
      if (!stored.startsWith(PREFIX)) return stored
      const m = SEALED.exec(stored)
      if (!m) throw new HubError('CONFIG_INVALID', `The stored secret for ${context} is malformed`)
      const [, id, iv, tag, data] = m as unknown as [string, string, string, string, string]
      const key = keyFor(id)
      if (!key) {
        throw new HubError(
          'CONFIG_INVALID',
          `The stored secret for ${context} is encrypted with key ${id}, which is not in the key ring ` +
            `(${ring.source}, current key ${ring.current.id}); set HUB_SECRET_KEY_PREVIOUS to the old key`,
        )
      }
      try {
        const decipher = createDecipheriv('aes-256-gcm', key.key, Buffer.from(iv, 'base64url'))
        decipher.setAAD(Buffer.from(context, 'utf8'))
        decipher.setAuthTag(Buffer.from(tag, 'base64url'))
        return Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString(
          'utf8',
        )
      } catch (cause) {
        throw new HubError(
          'CONFIG_INVALID',
          `The stored secret for ${context} cannot be decrypted with key ${id}: it was altered or belongs to another row`,
          { cause },
        )
      }
    },
    keyIdOf(stored) {
      return SEALED.exec(stored)?.[1] ?? null
    },
    currentKeyId: () => ring.current.id,
  }
}

/** The hub's SecretBox from its configuration (HUB_SECRET_KEY, or the key file in HUB_HOME). */
export function secretBoxFor(config: {
  home: string
  secrets: { key?: Buffer; previous: Buffer[] }
}): SecretBox {
  return createSecretBox(
    loadKeyRing({ home: config.home, key: config.secrets.key, previous: config.secrets.previous }),
  )
}
