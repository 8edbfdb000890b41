import { hostname } from 'node:os'
import { Cron } from 'croner'
import type { Knex } from 'knex'
import type { ConnectorHost } from '../connectors/context.ts'
import type { Connector } from '../connectors/contract.ts'
import { HubError } from '../errors.ts'
import { bullmqQueue } from './bullmq-queue.ts'
import { type ExecuteOptions, findJob, type JobRequest, jobExecutor, parseJobInput } from './execute.ts'
import type { JobRun } from './history.ts'
import { type JobSchedule, jobSchedules } from './schedules.ts'

export interface JobRunnerOptions {
  host: ConnectorHost
  /** The metadata store: leases, run history and schedules. */
  knex: Knex
  connectors: Connector[]
  /** HUB_REDIS_URL: run on BullMQ; without it jobs run in this process. */
  redisUrl?: string
  /** BullMQ key prefix (tests isolate their queues with it). */
  redisPrefix?: string
  /** How long handing a run to BullMQ may take before SERVICE_UNAVAILABLE. Default 5 s. */
  dispatchTimeoutMs?: number
  /** Lease length; renewed at a third of it. Default 60 s. */
  leaseMs?: number
  /** Identifies this process in leases and history. */
  holder?: string
  now?: () => number
}

/**
 * The scheduled time of the tick a timer fired at `firedAt`: the pattern's match nearest to it
 * (within half its resolution — a second for 6-field patterns, else a minute), else `firedAt`
 * truncated to that resolution.
 */
export function scheduledTick(pattern: string, firedAt: Date): Date {
  const unit = pattern.trim().split(/\s+/).length >= 6 ? 1000 : 60_000
  const near = new Cron(pattern, { paused: true }).nextRun(new Date(firedAt.getTime() - unit / 2))
  if (near && Math.abs(near.getTime() - firedAt.getTime()) < unit / 2) return near
  return new Date(Math.floor(firedAt.getTime() / unit) * unit)
}

/**
 * The job runner: `run` now (CLI), cron schedules per tenant (croner), one run at a time per
 * (job, tenant) through a lease in the metadata store, run history, audit of start/finish/failure.
 */
export function createJobRunner(options: JobRunnerOptions) {
  const holder = options.holder ?? `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`
  const executor = jobExecutor({
    host: options.host,
    knex: options.knex,
    connectors: options.connectors,
    holder,
    leaseMs: options.leaseMs ?? 60_000,
    ...(options.now ? { now: options.now } : {}),
  })
  const hasJobs = options.connectors.some((c) => Object.keys(c.jobs ?? {}).length > 0)
  // Redis is only dialled when some connector has jobs to run.
  const queue =
    options.redisUrl && hasJobs
      ? bullmqQueue({
          url: options.redisUrl,
          executor,
          logger: options.host.logger,
          ...(options.redisPrefix ? { prefix: options.redisPrefix } : {}),
          ...(options.dispatchTimeoutMs ? { dispatchTimeoutMs: options.dispatchTimeoutMs } : {}),
        })
      : null
  const schedules = jobSchedules(options.knex)
  let crons: Cron[] = []
  let reload: NodeJS.Timeout | undefined

  const dispatch = (request: JobRequest, exec?: ExecuteOptions) =>
    queue ? queue.dispatch(request, exec) : executor.execute(request, exec)

  /** Run now; CONFLICT when the (job, tenant) lease is held by another run. */
  async function run(request: Omit<JobRequest, 'slot'>, exec?: ExecuteOptions): Promise<JobRun> {
    // Refused here, before a queue is involved: a bad input never becomes a run.
    const { job } = findJob(options.connectors, request.connector, request.job)
    parseJobInput(job, `${request.connector}:${request.job}`, request.input)
    const out = await dispatch(request, exec)
    if ('busy' in out) throw new HubError('CONFLICT', out.busy)
    if ('skipped' in out) throw new HubError('CONFLICT', out.skipped)
    return out.run
  }

  /**
   * One scheduled tick, fired at `firedAt` by this replica's timer: the slot is the tick's scheduled
   * time (not the wall clock, which differs by ms between replicas), so it runs once however many
   * replicas fire it.
   */
  async function fire(schedule: JobSchedule, firedAt: Date): Promise<JobRun | null> {
    const at = scheduledTick(schedule.cron, firedAt)
    const [connector = '', job = ''] = schedule.job.split(':')
    const out = await dispatch({
      connector,
      job,
      tenant: schedule.tenant,
      input: schedule.input,
      trigger: 'schedule',
      slot: `${schedule.job}:${schedule.tenant}:${at.toISOString()}`,
    })
    return 'run' in out ? out.run : null
  }

  async function startSchedules(): Promise<void> {
    const load = async () => {
      for (const c of crons) c.stop()
      crons = (await schedules.list())
        .filter((s) => options.connectors.some((c) => `${c.name}:` === s.job.slice(0, c.name.length + 1)))
        .map(
          (s) =>
            new Cron(s.cron, { protect: true }, async (self: Cron) => {
              await fire(s, self.currentRun() ?? new Date()).catch((err: unknown) =>
                options.host.logger.error(
                  { err, job: s.job, tenant: s.tenant },
                  'scheduled job failed to start',
                ),
              )
            }),
        )
    }
    await load()
    // Schedules changed by `hub job schedule` are picked up within a minute.
    reload = setInterval(() => {
      load().catch((err: unknown) => options.host.logger.error({ err }, 'job schedules reload failed'))
    }, 60_000)
    reload.unref()
  }

  return {
    holder,
    run,
    fire,
    startSchedules,
    history: executor.history.list,
    schedules,
    async close() {
      clearInterval(reload)
      for (const c of crons) c.stop()
      crons = []
      await queue?.close()
    },
  }
}

export type JobRunner = ReturnType<typeof createJobRunner>
