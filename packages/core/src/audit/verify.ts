import type { Knex } from 'knex'
import { chainHash, GENESIS_HASH } from './canonical.ts'
import type { CheckpointKey } from './checkpoint-key.ts'
import { type Checkpoint, type CheckpointSource, isValidCheckpoint, loadCheckpoints } from './checkpoints.ts'
import { type AuditRow, fromRow, recordOf } from './record.ts'

export type VerifyResult =
  | { ok: true; count: number; tenants: number; checkpointSeq: number | null }
  | { ok: false; tenant: string; seq: number; reason: string }

type Failure = Extract<VerifyResult, { ok: false }>

const PAGE = 1000

/** Walk events (from, to] of a tenant, re-linking and re-hashing each; stops at the first bad one. */
export async function walkChain(
  knex: Knex,
  tenant: string,
  from: { seq: number; hash: string },
  to: number | null,
  onEvent?: (seq: number, hash: string) => Failure | null,
): Promise<Failure | { ok: true; last: number; hash: string }> {
  let expected = from.seq + 1
  let prev = from.hash
  for (;;) {
    const q = knex('audit_events')
      .where({ tenant })
      .andWhere('seq', '>=', expected)
      .orderBy('seq')
      .limit(PAGE)
    if (to !== null) q.andWhere('seq', '<=', to)
    const rows = (await q) as AuditRow[]
    for (const row of rows) {
      const event = fromRow(row)
      const fail = (reason: string, seq = event.seq): Failure => ({ ok: false, tenant, seq, reason })
      if (event.seq !== expected)
        return fail(`event ${expected} is missing (next stored is ${event.seq})`, expected)
      if (event.prevHash !== prev) return fail('prev_hash does not link to the previous event')
      if (chainHash(prev, recordOf(event)) !== event.hash) return fail('content does not match its hash')
      const bad = onEvent?.(event.seq, event.hash)
      if (bad) return bad
      prev = event.hash
      expected += 1
    }
    if (rows.length < PAGE) return { ok: true, last: expected - 1, hash: prev }
  }
}

/**
 * Verify one tenant: the chain from genesis, the head row, and every signed checkpoint (table
 * rows and the file). A checkpoint beyond the last event means the tail was truncated.
 */
export async function verifyTenant(
  knex: Knex,
  tenant: string,
  checkpoints: { key: CheckpointKey; home: string } | null,
): Promise<VerifyResult> {
  const fail = (seq: number, reason: string): Failure => ({ ok: false, tenant, seq, reason })
  const known: { checkpoint: Checkpoint; source: CheckpointSource }[] = checkpoints
    ? await loadCheckpoints(knex, checkpoints.home, tenant)
    : []
  const bySeq = new Map<number, { checkpoint: Checkpoint; source: CheckpointSource }[]>()
  for (const k of known) {
    if (!isValidCheckpoint(checkpoints!.key, k.checkpoint) || k.checkpoint.tenant !== tenant) {
      return fail(k.checkpoint.seq, `checkpoint (${k.source}) has an invalid signature`)
    }
    bySeq.set(k.checkpoint.seq, [...(bySeq.get(k.checkpoint.seq) ?? []), k])
  }
  const walked = await walkChain(knex, tenant, { seq: 0, hash: GENESIS_HASH }, null, (seq, hash) => {
    const mismatch = bySeq.get(seq)?.find((k) => k.checkpoint.hash !== hash)
    return mismatch ? fail(seq, `event does not match the signed checkpoint (${mismatch.source})`) : null
  })
  if (!walked.ok) return walked
  const head = (await knex('audit_heads').where({ tenant }).first('seq', 'hash')) as
    | { seq: number | string; hash: string }
    | undefined
  if (!head && walked.last > 0) return fail(1, 'the chain head row is missing')
  if (head) {
    const headSeq = Number(head.seq)
    if (headSeq > walked.last) {
      return fail(walked.last + 1, `tail truncated: head is at ${headSeq}, last event is ${walked.last}`)
    }
    if (headSeq < walked.last) return fail(headSeq + 1, `events beyond the head (${headSeq})`)
    if (head.hash !== walked.hash) return fail(headSeq, 'head hash does not match the last event')
  }
  const latest = known.reduce<Checkpoint | null>(
    (best, k) => (best === null || k.checkpoint.seq > best.seq ? k.checkpoint : best),
    null,
  )
  if (latest && latest.seq > walked.last) {
    return fail(
      walked.last + 1,
      `tail truncated: a signed checkpoint covers seq ${latest.seq}, last event is ${walked.last}`,
    )
  }
  return { ok: true, count: walked.last, tenants: 1, checkpointSeq: latest?.seq ?? null }
}
