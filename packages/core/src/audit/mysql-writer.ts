import { setTimeout as sleep } from 'node:timers/promises'
import type { Knex } from 'knex'
import { chainHash, GENESIS_HASH } from './canonical.ts'
import { type AuditRow, toRow } from './record.ts'
import type { AppendResult, BatchWriter } from './writer.ts'

/** Deadlock, lock wait timeout, duplicate (tenant, seq): another writer won the race — retry. */
const RETRYABLE = new Set(['ER_LOCK_DEADLOCK', 'ER_LOCK_WAIT_TIMEOUT', 'ER_DUP_ENTRY'])
const isRetryable = (err: unknown): boolean => RETRYABLE.has(String((err as { code?: unknown })?.code))

/**
 * MySQL/MariaDB: the tenant's head row is locked with `SELECT … FOR UPDATE` inside a transaction,
 * so writers in any number of processes or replicas append one after another and never fork the
 * chain. The head row is created once (outside the locking transaction, to avoid the shared-lock
 * upgrade deadlock of INSERT IGNORE + FOR UPDATE).
 */
export function mysqlWriter(knex: Knex, attempts = 5): BatchWriter {
  const knownHeads = new Set<string>()

  async function ensureHead(tenant: string): Promise<void> {
    if (knownHeads.has(tenant)) return
    await knex('audit_heads')
      .insert({ tenant, seq: 0, hash: GENESIS_HASH, updated_at: new Date().toISOString() })
      .onConflict('tenant')
      .ignore()
    knownHeads.add(tenant)
  }

  return async function writeMysql(tenant, events) {
    for (let attempt = 1; ; attempt++) {
      try {
        await ensureHead(tenant)
        return await knex.transaction(async (trx) => {
          const head = (await trx('audit_heads').where({ tenant }).forUpdate().first('seq', 'hash')) as
            | { seq: number | string; hash: string }
            | undefined
          if (!head) {
            knownHeads.delete(tenant)
            throw new Error(`audit head of tenant ${tenant} disappeared`)
          }
          let seq = Number(head.seq)
          let prev = head.hash
          const rows: AuditRow[] = []
          const results: AppendResult[] = []
          for (const event of events) {
            seq += 1
            const record = { ...event, tenant, seq }
            const hash = chainHash(prev, record)
            rows.push(toRow(record, prev, hash))
            results.push({ seq, hash })
            prev = hash
          }
          await trx('audit_events').insert(rows)
          await trx('audit_heads')
            .where({ tenant })
            .update({ seq, hash: prev, updated_at: new Date().toISOString() })
          return results
        })
      } catch (err) {
        if (attempt >= attempts || !isRetryable(err)) throw err
        await sleep(attempt * 5 * Math.random())
      }
    }
  }
}
