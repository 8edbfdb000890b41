import { type DataSource, HubError, openDataSource } from '@nl2q/core'
import type { ObjectMapping } from './mapping.ts'

export type TargetRow = Record<string, string | number | null>

export interface RowFailure {
  key: string
  message: string
}

/**
 * A failure of the database rather than of a row (lost connection, busy or locked, deadlock, pool
 * exhausted): replaying row by row would report every row as bad and let the watermark move past
 * them, so the run stops instead and resumes from its last committed page.
 */
const TRANSIENT = new Set([
  'PROTOCOL_CONNECTION_LOST',
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ER_LOCK_DEADLOCK',
  'ER_LOCK_WAIT_TIMEOUT',
  'ER_SERVER_SHUTDOWN',
  'SQLITE_BUSY',
  'SQLITE_LOCKED',
  'SQLITE_IOERR',
  'SQLITE_FULL',
  '40P01',
  '57P01',
  '08000',
  '08003',
  '08006',
])

export function isTransientDbError(err: unknown): boolean {
  const e = err as { code?: unknown; name?: unknown } | null
  if (!e || typeof e !== 'object') return false
  if (e.name === 'KnexTimeoutError') return true
  return typeof e.code === 'string' && (TRANSIENT.has(e.code) || e.code.startsWith('SQLITE_BUSY'))
}

/**
 * The tenant's write target (`sync_target_url` secret): the only handle that writes synced rows.
 * Batches are one transaction each; a batch the database refuses is replayed row by row so one bad
 * row lands in the run's error report instead of failing its neighbours — unless the database itself
 * failed (isTransientDbError), which fails the run before its watermark moves.
 */
export class WriteTarget {
  private constructor(readonly ds: DataSource) {}

  static open(url: string): WriteTarget {
    return new WriteTarget(openDataSource(url, { pool: { min: 0, max: 2 } }))
  }

  async close(): Promise<void> {
    await this.ds.knex.destroy()
  }

  /** Every mapped table and column exists in the target; a missing one is named. */
  async check(mappings: Record<string, ObjectMapping>): Promise<void> {
    for (const [object, m] of Object.entries(mappings)) {
      if (!(await this.ds.knex.schema.hasTable(m.table)))
        throw new HubError(
          'CONFIG_INVALID',
          `CRM mapping ${object}: the write target has no table '${m.table}'`,
        )
      const info = await this.ds.knex(m.table).columnInfo()
      for (const column of Object.keys(m.fields))
        if (!(column in info))
          throw new HubError(
            'CONFIG_INVALID',
            `CRM mapping ${object}: table '${m.table}' has no column '${column}'`,
          )
    }
  }

  async write(m: ObjectMapping, rows: TargetRow[]): Promise<{ written: number; failed: RowFailure[] }> {
    if (rows.length === 0) return { written: 0, failed: [] }
    const knex = this.ds.knex
    const one = async (trx: typeof knex, batch: TargetRow[]) => {
      if (m.mode === 'upsert') {
        const update = Object.keys(m.fields).filter((c) => c !== m.key)
        await trx(m.table).insert(batch).onConflict(m.key).merge(update)
        return batch.length
      }
      let n = 0
      for (const row of batch) {
        const { [m.key]: key, ...values } = row
        n += await trx(m.table)
          .where(m.key, key ?? null)
          .update(values)
      }
      return n
    }
    try {
      return { written: await knex.transaction((trx) => one(trx, rows)), failed: [] }
    } catch (batchError) {
      if (isTransientDbError(batchError)) throw unavailable(batchError)
      let written = 0
      const failed: RowFailure[] = []
      for (const row of rows) {
        try {
          written += await one(knex, [row])
        } catch (cause) {
          if (isTransientDbError(cause)) throw unavailable(cause)
          failed.push({ key: String(row[m.key]), message: dbMessage(cause) })
        }
      }
      return { written, failed }
    }
  }

  async delete(m: ObjectMapping, keys: string[]): Promise<{ deleted: number; failed: RowFailure[] }> {
    if (keys.length === 0) return { deleted: 0, failed: [] }
    const knex = this.ds.knex
    try {
      return {
        deleted: await knex.transaction((trx) => trx(m.table).whereIn(m.key, keys).delete()),
        failed: [],
      }
    } catch (batchError) {
      if (isTransientDbError(batchError)) throw unavailable(batchError)
      let deleted = 0
      const failed: RowFailure[] = []
      for (const key of keys) {
        try {
          deleted += await knex(m.table).where(m.key, key).delete()
        } catch (cause) {
          if (isTransientDbError(cause)) throw unavailable(cause)
          failed.push({ key, message: dbMessage(cause) })
        }
      }
      return { deleted, failed }
    }
  }
}

/** The database's reason without the statement or its values (they may hold personal data). */
function dbMessage(cause: unknown): string {
  const e = cause as { code?: string; message?: string }
  const msg = String(e.message ?? cause)
  if (/FOREIGN KEY|foreign key constraint/i.test(msg))
    return 'refused by a foreign key (a parent row is missing, or children still exist)'
  if (/NOT NULL|cannot be null|doesn't have a default/i.test(msg)) return 'a required column is empty'
  if (/UNIQUE|Duplicate entry/i.test(msg)) return 'conflicts with a unique column of another row'
  if (/too long|Data too long/i.test(msg)) return 'a value is longer than its column'
  return `refused by the database (${e.code ?? 'error'})`
}

function unavailable(cause: unknown): HubError {
  return new HubError(
    'SERVICE_UNAVAILABLE',
    `the CRM write target failed (${dbMessage(cause)}); the run stops and resumes from its last committed page`,
    { cause },
  )
}
