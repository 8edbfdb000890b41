import type { Knex } from 'knex'

/** One (job, tenant) lease row: who runs it and until when (epoch ms of the holder's clock). */
export interface Lease {
  job: string
  tenant: string
  holder: string
  runId: string
}

export interface LeaseStore {
  /** Take the lease if nobody holds it or the holder's lease expired; false when it is held. */
  acquire(lease: Lease, ttlMs: number): Promise<boolean>
  /** Extend our lease; false when it was lost (expired and taken over). */
  renew(lease: Lease, ttlMs: number): Promise<boolean>
  release(lease: Lease): Promise<void>
}

const TABLE = 'job_leases'

/**
 * Leases in the metadata store, so that two hub replicas (or a replica and an operator's CLI) never
 * run the same job for the same tenant at once. Acquire is an INSERT on the (job, tenant) primary
 * key; when the row exists, a conditional UPDATE takes it over only if it has expired. Both are
 * single statements, atomic on SQLite and MySQL alike. Clock skew between replicas shortens or
 * lengthens a takeover by the skew; leases are renewed at a third of their life.
 */
export function leaseStore(knex: Knex, now: () => number = Date.now): LeaseStore {
  return {
    async acquire(lease, ttlMs) {
      const row = {
        job: lease.job,
        tenant: lease.tenant,
        holder: lease.holder,
        run_id: lease.runId,
        expires_at: now() + ttlMs,
      }
      try {
        await knex(TABLE).insert(row)
        return true
      } catch (insertError) {
        // The row exists (or the store is down: then the update throws too).
        const taken = await knex(TABLE)
          .where({ job: lease.job, tenant: lease.tenant })
          .andWhere('expires_at', '<', now())
          .update({ holder: row.holder, run_id: row.run_id, expires_at: row.expires_at })
          .catch((err: unknown) => {
            throw new AggregateError([insertError, err], 'job lease unavailable')
          })
        return taken === 1
      }
    },
    async renew(lease, ttlMs) {
      const n = await knex(TABLE)
        .where({ job: lease.job, tenant: lease.tenant, holder: lease.holder, run_id: lease.runId })
        .update({ expires_at: now() + ttlMs })
      return n === 1
    },
    async release(lease) {
      await knex(TABLE).where({ job: lease.job, tenant: lease.tenant, run_id: lease.runId }).delete()
    },
  }
}
