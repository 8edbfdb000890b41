import type { PreparedEvent } from './record.ts'
import type { AppendResult, BatchWriter } from './writer.ts'

interface Job {
  event: PreparedEvent
  resolve(result: AppendResult): void
  reject(err: unknown): void
}

/**
 * One queue per tenant: events waiting while a batch is written go into the next batch, so N
 * concurrent requests cost about one transaction (and one fsync) instead of N. A caller's promise
 * settles only after its batch committed — or rejects with the write error.
 */
export function createAppendQueue(write: BatchWriter, maxBatch = 256) {
  const queues = new Map<string, Job[]>()

  async function drain(tenant: string, jobs: Job[]): Promise<void> {
    while (jobs.length > 0) {
      const batch = jobs.splice(0, maxBatch)
      try {
        const results = await write(
          tenant,
          batch.map((j) => j.event),
        )
        for (const [i, job] of batch.entries()) job.resolve(results[i]!)
      } catch (err) {
        for (const job of batch) job.reject(err)
      }
    }
    queues.delete(tenant)
  }

  return function enqueue(tenant: string, event: PreparedEvent): Promise<AppendResult> {
    return new Promise<AppendResult>((resolve, reject) => {
      const pending = queues.get(tenant)
      if (pending) {
        pending.push({ event, resolve, reject })
        return
      }
      const jobs: Job[] = [{ event, resolve, reject }]
      queues.set(tenant, jobs)
      // Start after this turn of the event loop has handled every socket that was ready, so that the
      // requests of one turn share a batch. A microtask would start after the first of them: each
      // request reaches its audit record within its own I/O callback, so on the cached path (no
      // awaits on I/O before the record) batches held ~2 events and SQLite committed per request.
      setImmediate(() => void drain(tenant, jobs))
    })
  }
}
