import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { HubError } from '../errors.ts'
import type { MetadataStore } from '../metadata/store.ts'
import { createAppendQueue } from './append-queue.ts'
import { GENESIS_HASH } from './canonical.ts'
import { type CheckpointKey, loadCheckpointKey } from './checkpoint-key.ts'
import { type CheckpointSchedule, createCheckpointSchedule } from './checkpoint-schedule.ts'
import {
  type Checkpoint,
  isValidCheckpoint,
  loadCheckpoints,
  saveCheckpoint,
  signCheckpoint,
} from './checkpoints.ts'
import { mysqlWriter } from './mysql-writer.ts'
import { type AuditAppendInput, type AuditEvent, type AuditRow, fromRow, prepareEvent } from './record.ts'
import { noteAuditAppend } from './request-scope.ts'
import { sqliteWriter } from './sqlite-writer.ts'
import { type VerifyResult, verifyTenant, walkChain } from './verify.ts'
import type { AppendResult } from './writer.ts'

/** The chain for events that belong to no (known) tenant, e.g. a failed login with a forged token. */
export const HUB_AUDIT_TENANT = '_hub'

export interface AuditListQuery {
  /** ISO date-time; events at or after it. */
  since?: string
  action?: string
  subject?: string
  limit?: number
  /** Opaque, from the previous page's `nextCursor`. */
  cursor?: string | null
}

export interface AuditPage {
  /** Newest first. */
  items: AuditEvent[]
  nextCursor: string | null
}

export interface AuditLogOptions {
  /** HUB_HOME: where the checkpoint key and checkpoint files live. Without it, no checkpoints. */
  home?: string
}

export interface AuditLog {
  /** Resolves once the event is committed; rejects with AUDIT_UNAVAILABLE otherwise. */
  append(tenant: string, event: AuditAppendInput): Promise<AppendResult>
  list(tenant: string, query?: AuditListQuery): Promise<AuditPage>
  /** One tenant, or every tenant that has events, a head, or a checkpoint. */
  verify(tenant?: string): Promise<VerifyResult>
  /** Sign the current head of one tenant (or all) after checking the events since the last checkpoint. */
  checkpoint(tenant?: string): Promise<Checkpoint[]>
  /** The latest validly signed checkpoint of a tenant (table or file), or null. */
  head(tenant: string): Promise<Checkpoint | null>
  /**
   * Checkpoint a tenant as soon as `everyEvents` were appended since its last checkpoint (by any
   * audit log on this store), and every tenant whose head moved every `intervalMs`; returns stop.
   */
  startCheckpoints(options: {
    intervalMs: number
    everyEvents?: number
    onError?: (err: unknown) => void
  }): () => void
  tenants(): Promise<string[]>
}

/** The running checkpoint schedule of a store, told of every append made through any audit log on it. */
const schedules = new WeakMap<MetadataStore, CheckpointSchedule>()

/** Writers hold per-process state (queues, prepared statements): one set per metadata store. */
const appenders = new WeakMap<MetadataStore, ReturnType<typeof createAppendQueue>>()

function appenderFor(metadata: MetadataStore): ReturnType<typeof createAppendQueue> {
  let enqueue = appenders.get(metadata)
  if (!enqueue) {
    const writer = metadata.dialect === 'sqlite' ? sqliteWriter(metadata.knex) : mysqlWriter(metadata.knex)
    enqueue = createAppendQueue(writer)
    appenders.set(metadata, enqueue)
  }
  return enqueue
}

const encodeCursor = (seq: number): string => Buffer.from(`s:${seq}`).toString('base64url')

function decodeCursor(cursor: string): number {
  const m = /^s:(\d{1,15})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'))
  if (!m) throw new HubError('BAD_REQUEST', 'The cursor is not valid')
  return Number(m[1])
}

export function createAuditLog(metadata: MetadataStore, options: AuditLogOptions = {}): AuditLog {
  const knex = metadata.knex
  const enqueue = appenderFor(metadata)
  let key: CheckpointKey | undefined
  const checkpointing = (): { key: CheckpointKey; home: string } | null => {
    if (!options.home) return null
    key ??= loadCheckpointKey(options.home)
    return { key, home: options.home }
  }

  async function tenants(): Promise<string[]> {
    const found = new Set<string>()
    for (const table of ['audit_heads', 'audit_events', 'audit_checkpoints']) {
      for (const r of (await knex(table).distinct('tenant')) as { tenant: string }[]) found.add(r.tenant)
    }
    if (options.home) {
      try {
        for (const f of readdirSync(join(options.home, 'audit-checkpoints'))) {
          if (f.endsWith('.json')) found.add(decodeURIComponent(f.slice(0, -5)))
        }
      } catch {
        // no checkpoint directory yet
      }
    }
    return [...found].sort()
  }

  async function checkpointOne(
    tenant: string,
    ck: { key: CheckpointKey; home: string },
  ): Promise<Checkpoint> {
    const head = (await knex('audit_heads').where({ tenant }).first('seq', 'hash')) as
      | { seq: number | string; hash: string }
      | undefined
    if (!head) throw new HubError('NOT_FOUND', `Tenant ${tenant} has no audit chain`)
    const previous = (await loadCheckpoints(knex, ck.home, tenant))
      .map((k) => k.checkpoint)
      .filter((c) => c.tenant === tenant && c.seq <= Number(head.seq) && isValidCheckpoint(ck.key, c))
      .sort((a, b) => b.seq - a.seq)[0]
    // Only a chain that links from the last signed state to the head gets signed.
    const from = previous ? { seq: previous.seq, hash: previous.hash } : { seq: 0, hash: GENESIS_HASH }
    const walked = await walkChain(knex, tenant, from, Number(head.seq))
    if (!walked.ok) {
      throw new HubError(
        'CONFLICT',
        `Audit chain of ${tenant} is broken at seq ${walked.seq}: ${walked.reason}`,
      )
    }
    if (walked.last !== Number(head.seq) || walked.hash !== head.hash) {
      throw new HubError('CONFLICT', `Audit chain of ${tenant} does not end at its head (${head.seq})`)
    }
    const cp = signCheckpoint(ck.key, tenant, walked.last, walked.hash)
    await saveCheckpoint(knex, ck.home, cp)
    return cp
  }

  const log: AuditLog = {
    async append(tenant, event) {
      noteAuditAppend(event.requestId, event.outcome)
      try {
        const appended = await enqueue(tenant, prepareEvent(event))
        schedules.get(metadata)?.appended(tenant, appended.seq)
        return appended
      } catch (cause) {
        throw new HubError(
          'AUDIT_UNAVAILABLE',
          'The audit trail cannot be written, so the request was not served',
          {
            cause,
          },
        )
      }
    },

    async list(tenant, query = {}) {
      const limit = Math.min(Math.max(query.limit ?? 100, 1), 1000)
      const q = knex('audit_events')
        .where({ tenant })
        .orderBy('seq', 'desc')
        .limit(limit + 1)
      if (query.cursor) q.andWhere('seq', '<', decodeCursor(query.cursor))
      if (query.since) {
        const since = new Date(query.since)
        if (Number.isNaN(since.getTime())) throw new HubError('BAD_REQUEST', '`since` is not a date-time')
        q.andWhere('time', '>=', since.toISOString())
      }
      if (query.action) q.andWhere('action', query.action)
      if (query.subject) q.andWhere('subject', query.subject)
      const rows = ((await q) as AuditRow[]).map(fromRow)
      const items = rows.slice(0, limit)
      const last = items[items.length - 1]
      return { items, nextCursor: rows.length > limit && last ? encodeCursor(last.seq) : null }
    },

    async verify(tenant) {
      const ck = checkpointing()
      const list = tenant === undefined ? await tenants() : [tenant]
      let count = 0
      let checkpointSeq: number | null = null
      for (const t of list) {
        const result = await verifyTenant(knex, t, ck)
        if (!result.ok) return result
        count += result.count
        if (tenant !== undefined) checkpointSeq = result.checkpointSeq
      }
      return { ok: true, count, tenants: list.length, checkpointSeq }
    },

    async checkpoint(tenant) {
      const ck = checkpointing()
      if (!ck) throw new HubError('CONFIG_INVALID', 'Audit checkpoints need HUB_HOME (the key lives there)')
      const list =
        tenant === undefined
          ? ((await knex('audit_heads').select('tenant').orderBy('tenant')) as { tenant: string }[]).map(
              (r) => r.tenant,
            )
          : [tenant]
      const out: Checkpoint[] = []
      for (const t of list) out.push(await checkpointOne(t, ck))
      return out
    },

    async head(tenant) {
      const ck = checkpointing()
      if (!ck) return null
      const valid = (await loadCheckpoints(knex, ck.home, tenant))
        .map((k) => k.checkpoint)
        .filter((c) => c.tenant === tenant && isValidCheckpoint(ck.key, c))
      return valid.reduce<Checkpoint | null>(
        (best, c) => (best === null || c.seq > best.seq ? c : best),
        null,
      )
    },

    startCheckpoints({ intervalMs, everyEvents = 1000, onError }) {
      const schedule = createCheckpointSchedule({
        intervalMs,
        everyEvents,
        onError,
        sign: async (tenant) => {
          const ck = checkpointing()
          if (!ck)
            throw new HubError('CONFIG_INVALID', 'Audit checkpoints need HUB_HOME (the key lives there)')
          return checkpointOne(tenant, ck)
        },
        heads: async () =>
          (
            (await knex('audit_heads').select('tenant', 'seq')) as { tenant: string; seq: number | string }[]
          ).map((h) => ({ tenant: h.tenant, seq: Number(h.seq) })),
      })
      schedules.get(metadata)?.stop()
      schedules.set(metadata, schedule)
      return () => {
        schedule.stop()
        if (schedules.get(metadata) === schedule) schedules.delete(metadata)
      }
    },

    tenants,
  }
  return log
}
