import { randomBytes } from 'node:crypto'
import { chmodSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { HubError } from '../errors.ts'
import { type SecretKey, SecretKeySchema, secretKeyOf } from './secret-key.ts'

/**
 * The keys a SecretBox may use: `current` encrypts, every key decrypts what it encrypted. A ring
 * read from a file can `reload()` it, so a running hub picks up a key that `hub secrets rotate`
 * added while it ran.
 */
export interface KeyRing {
  current: SecretKey
  get(id: string): SecretKey | undefined
  /** Where the keys come from, for messages: `HUB_SECRET_KEY` or the key file path. */
  source: string
  reload?(): void
}

export const SECRET_KEY_FILE = 'secret.key'

export function keyRingOf(current: SecretKey, previous: SecretKey[], source: string): KeyRing {
  const byId = new Map([...previous, current].map((k) => [k.id, k]))
  return { current, get: (id) => byId.get(id), source }
}

/**
 * The embedded default's key file `HUB_HOME/secret.key`: one key per line, the first encrypts,
 * the others (kept by a rotation in progress) still decrypt. Created 0600 on first use; a file
 * readable by group or others is refused, as ssh does.
 */
export function readKeyFile(path: string): SecretKey[] {
  if (process.platform !== 'win32' && (statSync(path).mode & 0o077) !== 0) {
    throw new HubError(
      'CONFIG_INVALID',
      `The secret key ${path} is readable by group or others; run chmod 600 on it`,
    )
  }
  const lines = readFileSync(path, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
  const keys = lines.map((line, i) => {
    const parsed = SecretKeySchema.safeParse(line)
    if (!parsed.success)
      throw new HubError('CONFIG_INVALID', `The secret key ${path} line ${i + 1} is not a key`)
    return secretKeyOf(parsed.data)
  })
  if (!keys[0]) throw new HubError('CONFIG_INVALID', `The secret key ${path} is empty`)
  return keys
}

/** Replace the key file atomically (temporary file, then rename) with these keys, first = current. */
export function writeKeyFile(path: string, keys: SecretKey[]): void {
  const tmp = `${path}.${process.pid}.tmp`
  writeFileSync(tmp, `${keys.map((k) => k.key.toString('base64')).join('\n')}\n`, { mode: 0o600 })
  chmodSync(tmp, 0o600)
  renameSync(tmp, path)
}

export function generateKey(): SecretKey {
  return secretKeyOf(randomBytes(32))
}

/**
 * The hub's key ring: HUB_SECRET_KEY (+ HUB_SECRET_KEY_PREVIOUS) when configured; otherwise the key
 * file in HUB_HOME, generated on first use. Kept apart from the audit checkpoint key on purpose.
 */
export function loadKeyRing(opts: { home: string; key?: Buffer; previous?: Buffer[] }): KeyRing {
  if (opts.key) {
    return keyRingOf(secretKeyOf(opts.key), (opts.previous ?? []).map(secretKeyOf), 'HUB_SECRET_KEY')
  }
  const path = join(opts.home, SECRET_KEY_FILE)
  mkdirSync(opts.home, { recursive: true, mode: 0o700 })
  try {
    writeFileSync(path, `${generateKey().key.toString('base64')}\n`, { flag: 'wx', mode: 0o600 })
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
      throw new HubError('CONFIG_INVALID', 'Cannot create the secret key file', { cause: err })
    }
  }
  const previous = (opts.previous ?? []).map(secretKeyOf)
  let ring = fromFile()
  function fromFile(): KeyRing {
    const [current, ...older] = readKeyFile(path)
    return keyRingOf(current!, [...older, ...previous], path)
  }
  return {
    get current() {
      return ring.current
    },
    get: (id) => ring.get(id),
    source: path,
    reload() {
      ring = fromFile()
    },
  }
}
