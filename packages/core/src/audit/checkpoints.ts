import { timingSafeEqual } from 'node:crypto'
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Knex } from 'knex'
import { canonicalJson, hmacHex } from './canonical.ts'
import type { CheckpointKey } from './checkpoint-key.ts'

/** A signed statement "tenant T's chain had seq S with hash H at time C". */
export interface Checkpoint {
  tenant: string
  seq: number
  hash: string
  createdAt: string
  keyId: string
  signature: string
}

export type CheckpointSource = 'table' | 'file'

/** The exact text a checkpoint's HMAC-SHA256 signs (canonical JSON), for external verifiers. */
export function checkpointMessage(cp: Omit<Checkpoint, 'signature'>): string {
  return canonicalJson({
    v: 1,
    tenant: cp.tenant,
    seq: cp.seq,
    hash: cp.hash,
    createdAt: cp.createdAt,
    keyId: cp.keyId,
  })
}

export function signCheckpoint(key: CheckpointKey, tenant: string, seq: number, hash: string): Checkpoint {
  const unsigned = { tenant, seq, hash, createdAt: new Date().toISOString(), keyId: key.id }
  return { ...unsigned, signature: hmacHex(key.key, checkpointMessage(unsigned)) }
}

export function isValidCheckpoint(key: CheckpointKey, cp: Checkpoint): boolean {
  if (cp.keyId !== key.id || !/^[0-9a-f]{64}$/.test(cp.signature)) return false
  const expected = Buffer.from(hmacHex(key.key, checkpointMessage(cp)), 'hex')
  return timingSafeEqual(expected, Buffer.from(cp.signature, 'hex'))
}

const fileOf = (home: string, tenant: string): string =>
  join(home, 'audit-checkpoints', `${encodeURIComponent(tenant)}.json`)

/** Record a checkpoint in the table and (atomically) in `HUB_HOME/audit-checkpoints/<tenant>.json`. */
export async function saveCheckpoint(knex: Knex, home: string, cp: Checkpoint): Promise<void> {
  await knex('audit_checkpoints').insert({
    tenant: cp.tenant,
    seq: cp.seq,
    hash: cp.hash,
    created_at: cp.createdAt,
    key_id: cp.keyId,
    signature: cp.signature,
  })
  const file = fileOf(home, cp.tenant)
  mkdirSync(join(home, 'audit-checkpoints'), { recursive: true, mode: 0o700 })
  writeFileSync(`${file}.tmp`, `${JSON.stringify(cp, null, 2)}\n`, { mode: 0o600 })
  renameSync(`${file}.tmp`, file)
}

interface CheckpointRow {
  tenant: string
  seq: number | string
  hash: string
  created_at: string
  key_id: string
  signature: string
}

/** Every checkpoint known for a tenant: all table rows plus the latest one in the file. */
export async function loadCheckpoints(
  knex: Knex,
  home: string,
  tenant: string,
): Promise<{ checkpoint: Checkpoint; source: CheckpointSource }[]> {
  const rows = (await knex('audit_checkpoints').where({ tenant }).orderBy('seq')) as CheckpointRow[]
  const out: { checkpoint: Checkpoint; source: CheckpointSource }[] = rows.map((r) => ({
    source: 'table',
    checkpoint: {
      tenant: r.tenant,
      seq: Number(r.seq),
      hash: r.hash,
      createdAt: r.created_at,
      keyId: r.key_id,
      signature: r.signature,
    },
  }))
  const file = readCheckpointFile(home, tenant)
  if (file) out.push({ source: 'file', checkpoint: file })
  return out
}

function readCheckpointFile(home: string, tenant: string): Checkpoint | null {
  let text: string
  try {
    text = readFileSync(fileOf(home, tenant), 'utf8')
  } catch {
    return null
  }
  let raw: Partial<Checkpoint>
  try {
    raw = JSON.parse(text) as Partial<Checkpoint>
  } catch {
    raw = {}
  }
  return {
    tenant: String(raw.tenant),
    seq: Number(raw.seq),
    hash: String(raw.hash),
    createdAt: String(raw.createdAt),
    keyId: String(raw.keyId),
    signature: String(raw.signature),
  }
}
