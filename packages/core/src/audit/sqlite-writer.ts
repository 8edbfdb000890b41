import { setTimeout as sleep } from 'node:timers/promises'
import type Database from 'better-sqlite3'
import type { Knex } from 'knex'
import { chainHash, GENESIS_HASH } from './canonical.ts'
import type { PreparedEvent } from './record.ts'
import { toRow } from './record.ts'
import type { AppendResult, BatchWriter } from './writer.ts'

interface Statements {
  head: Database.Statement<[string], { seq: number; hash: string }>
  insertHead: Database.Statement<[string, string, string]>
  insertEvent: Database.Statement<[Record<string, unknown>]>
  updateHead: Database.Statement<[number, string, string, string]>
  /** The whole append of one batch, as one better-sqlite3 transaction (built once per connection). */
  append: Database.Transaction<(tenant: string, events: readonly PreparedEvent[]) => AppendResult[]>
  /** The connection's busy_timeout, restored after each append (which waits with its own back-off). */
  busyTimeout: number
}

const statements = new WeakMap<Database.Database, Statements>()

function prepare(db: Database.Database): Statements {
  const s = statements.get(db)
  if (!s) {
    const partial = {
      head: db.prepare('select seq, hash from audit_heads where tenant = ?'),
      insertHead: db.prepare('insert into audit_heads (tenant, seq, hash, updated_at) values (?, 0, ?, ?)'),
      insertEvent: db.prepare(
        `insert into audit_events (tenant, seq, time, subject, credential_id, action, resource, request_id,
           client_ip, channel, outcome, row_count, duration_ms, question_hash, plan_hash, sql_hash, detail,
           prev_hash, hash)
         values (@tenant, @seq, @time, @subject, @credential_id, @action, @resource, @request_id, @client_ip,
           @channel, @outcome, @row_count, @duration_ms, @question_hash, @plan_hash, @sql_hash, @detail,
           @prev_hash, @hash)`,
      ),
      updateHead: db.prepare('update audit_heads set seq = ?, hash = ?, updated_at = ? where tenant = ?'),
    }
    const st = partial as Omit<Statements, 'append' | 'busyTimeout'>
    const append = db.transaction((tenant: string, events: readonly PreparedEvent[]): AppendResult[] => {
      const now = new Date().toISOString()
      const head = st.head.get(tenant)
      if (!head) st.insertHead.run(tenant, GENESIS_HASH, now)
      let seq = head ? Number(head.seq) : 0
      let prev = head ? head.hash : GENESIS_HASH
      const results: AppendResult[] = []
      for (const event of events) {
        seq += 1
        const record = { ...event, tenant, seq }
        const hash = chainHash(prev, record)
        st.insertEvent.run(toRow(record, prev, hash) as unknown as Record<string, unknown>)
        results.push({ seq, hash })
        prev = hash
      }
      st.updateHead.run(seq, prev, now, tenant)
      return results
    })
    const all: Statements = {
      ...st,
      append,
      busyTimeout: Number(db.pragma('busy_timeout', { simple: true })) || 5000,
    }
    statements.set(db, all)
    return all
  }
  return s
}

const isBusy = (err: unknown): boolean =>
  typeof (err as { code?: unknown })?.code === 'string' &&
  /^SQLITE_(BUSY|LOCKED)/.test((err as { code: string }).code)

/**
 * SQLite: the whole batch runs synchronously inside `BEGIN IMMEDIATE … COMMIT` on one connection,
 * so it never yields the event loop while holding the write lock (another connection of this
 * process can never wait on it), and another process holding the lock is waited for with async
 * back-off instead of SQLite's blocking busy handler. (tenant, seq) primary key is the last line of
 * defence if anything else ever appends without the lock.
 */
export function sqliteWriter(knex: Knex, deadlineMs = 10_000): BatchWriter {
  return async function writeSqlite(tenant, events) {
    const db = (await knex.client.acquireConnection()) as Database.Database
    try {
      const s = prepare(db)
      const append = s.append
      const busyTimeout = s.busyTimeout
      const deadline = Date.now() + deadlineMs
      db.pragma('busy_timeout = 0')
      try {
        for (let attempt = 1; ; attempt++) {
          try {
            return append.immediate(tenant, events)
          } catch (err) {
            if (!isBusy(err) || Date.now() > deadline) throw err
            await sleep(Math.min(50, attempt * 2) * (0.5 + Math.random()))
          }
        }
      } finally {
        db.pragma(`busy_timeout = ${Number(busyTimeout) || 5000}`)
      }
    } finally {
      await knex.client.releaseConnection(db)
    }
  }
}
