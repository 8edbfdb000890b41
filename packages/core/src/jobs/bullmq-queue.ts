import { type ConnectionOptions, Queue, QueueEvents, Worker } from 'bullmq'
import type { Logger } from 'pino'
import { HubError } from '../errors.ts'
import type { Executed, ExecuteOptions, JobExecutor, JobRequest } from './execute.ts'

/** `redis://[user:pass@]host:port[/db]` → BullMQ connection options (workers need no retry cap). */
function connectionOf(url: string): ConnectionOptions {
  const u = new URL(url)
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:')
    throw new HubError('CONFIG_INVALID', 'HUB_REDIS_URL must be a redis:// or rediss:// URL')
  return {
    host: u.hostname,
    port: Number(u.port || 6379),
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(u.pathname.length > 1 ? { db: Number(u.pathname.slice(1)) } : {}),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
    maxRetriesPerRequest: null,
  }
}

/**
 * Jobs on BullMQ (HUB_REDIS_URL): `dispatch` enqueues and waits; every hub replica (and an
 * operator's CLI while it waits) runs a worker, and whichever takes the job executes it here — still
 * under the metadata-store lease, so the one-run-per-(job, tenant) rule does not depend on Redis.
 * A scheduled tick is enqueued with its slot as the job id, so replicas firing together add it once.
 */
export function bullmqQueue(options: {
  url: string
  executor: JobExecutor
  logger: Logger
  queueName?: string
  prefix?: string
  /** How long enqueueing may take before SERVICE_UNAVAILABLE (Redis down). Default 5 s. */
  dispatchTimeoutMs?: number
}) {
  const deadlineMs = options.dispatchTimeoutMs ?? 5000
  const connection = connectionOf(options.url)
  const name = options.queueName ?? 'nl2q-jobs'
  const common = { connection, ...(options.prefix ? { prefix: options.prefix } : {}) }
  const queue = new Queue<JobRequest, Executed>(name, common)
  const events = new QueueEvents(name, common)
  const worker = new Worker<JobRequest, Executed>(
    name,
    (job) =>
      options.executor.execute(job.data, {
        onProgress: (done, total, message) => {
          void job
            .updateProgress({ done, total: total ?? null, message: message ?? null })
            .catch(() => undefined)
        },
      }),
    { ...common, concurrency: 4 },
  )
  // Redis errors (down, refused) go to the hub log, not to BullMQ's console fallback.
  const logError = (part: string) => (err: Error) =>
    options.logger.warn({ err, queue: name, part }, 'job queue: Redis error')
  worker.on('error', logError('worker'))
  queue.on('error', logError('queue'))
  events.on('error', logError('events'))

  /** Enqueueing waits on Redis (retried for ever): bounded, so a tick or a CLI never hangs. */
  async function enqueue(request: JobRequest) {
    let timer: NodeJS.Timeout | undefined
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new HubError(
              'SERVICE_UNAVAILABLE',
              `The job queue (Redis) did not answer within ${deadlineMs} ms; the job was not started`,
            ),
          ),
        deadlineMs,
      )
    })
    try {
      return await Promise.race([
        (async () => {
          await events.waitUntilReady()
          return queue.add(`${request.connector}:${request.job}`, request, {
            ...(request.slot ? { jobId: request.slot.replaceAll(':', '_') } : {}),
            removeOnComplete: 1000,
            removeOnFail: 1000,
          })
        })(),
        deadline,
      ])
    } finally {
      clearTimeout(timer)
    }
  }

  return {
    async dispatch(request: JobRequest, exec: ExecuteOptions = {}): Promise<Executed> {
      const job = await enqueue(request)
      const onProgress = ({ jobId, data }: { jobId: string; data: unknown }) => {
        if (jobId !== job.id || !exec.onProgress) return
        const p = data as { done: number; total: number | null; message: string | null }
        exec.onProgress(p.done, p.total ?? undefined, p.message ?? undefined)
      }
      events.on('progress', onProgress)
      try {
        return await job.waitUntilFinished(events)
      } catch (cause) {
        throw new HubError('SERVICE_UNAVAILABLE', 'The job queue failed to run the job', { cause })
      } finally {
        events.off('progress', onProgress)
      }
    },
    /** Graceful within the deadline; past it (Redis down, close would wait for ever) the sockets are dropped. */
    async close() {
      let timer: NodeJS.Timeout | undefined
      const graceful = (async () => {
        await worker.close()
        await events.close()
        await queue.close()
        return true
      })()
      const closed = await Promise.race([
        graceful,
        new Promise<false>((resolve) => {
          timer = setTimeout(() => resolve(false), deadlineMs)
        }),
      ]).finally(() => clearTimeout(timer))
      if (closed) return
      options.logger.warn({ queue: name }, 'job queue: Redis did not answer on close; disconnecting')
      for (const part of [worker, events, queue]) void part.disconnect().catch(() => undefined)
    },
  }
}
