import { createHash, randomBytes } from 'node:crypto'
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { HubError } from '../errors.ts'

export interface CheckpointKey {
  key: Buffer
  /** First 16 hex of SHA-256(key): names the key that signed a checkpoint without revealing it. */
  id: string
  path: string
}

export const CHECKPOINT_KEY_FILE = 'audit-checkpoint.key'

/**
 * The HMAC key for audit checkpoints lives outside the database (`HUB_HOME/audit-checkpoint.key`),
 * created with mode 0600 on first use. A key readable by group or others is refused, like ssh does.
 */
export function loadCheckpointKey(home: string): CheckpointKey {
  const path = join(home, CHECKPOINT_KEY_FILE)
  mkdirSync(home, { recursive: true, mode: 0o700 })
  try {
    writeFileSync(path, `${randomBytes(32).toString('hex')}\n`, { flag: 'wx', mode: 0o600 })
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
      throw new HubError('CONFIG_INVALID', 'Cannot create the audit checkpoint key', { cause: err })
    }
  }
  if (process.platform !== 'win32' && (statSync(path).mode & 0o077) !== 0) {
    throw new HubError(
      'CONFIG_INVALID',
      `The audit checkpoint key ${path} is readable by group or others; run chmod 600 on it`,
    )
  }
  const hex = readFileSync(path, 'utf8').trim()
  if (!/^[0-9a-f]{64}$/.test(hex)) {
    throw new HubError('CONFIG_INVALID', `The audit checkpoint key ${path} is not 64 hex characters`)
  }
  const key = Buffer.from(hex, 'hex')
  return { key, id: createHash('sha256').update(key).digest('hex').slice(0, 16), path }
}
