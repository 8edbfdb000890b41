import type { Knex } from 'knex'
import { z } from 'zod'

const TABLE = 'job_runs'

export const JobRunStatusSchema = z.enum(['running', 'succeeded', 'failed'])

/** One run in the history (`hub job history`). */
export const JobRunSchema = z.object({
  id: z.string(),
  /** `<connector>:<job>` */
  job: z.string(),
  tenant: z.string(),
  trigger: z.enum(['cli', 'schedule', 'api']),
  status: JobRunStatusSchema,
  holder: z.string(),
  input: z.unknown(),
  result: z.record(z.string(), z.unknown()).nullable(),
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
  startedAt: z.string(),
  finishedAt: z.string().nullable(),
})
export type JobRun = z.infer<typeof JobRunSchema>

interface Row {
  id: string
  job: string
  tenant: string
  trigger: JobRun['trigger']
  status: JobRun['status']
  holder: string
  input_json: string
  result_json: string | null
  error_code: string | null
  error_message: string | null
  started_at: string
  finished_at: string | null
}

const fromRow = (r: Row): JobRun => ({
  id: r.id,
  job: r.job,
  tenant: r.tenant,
  trigger: r.trigger,
  status: r.status,
  holder: r.holder,
  input: JSON.parse(r.input_json) as unknown,
  result: r.result_json ? (JSON.parse(r.result_json) as Record<string, unknown>) : null,
  error: r.error_code ? { code: r.error_code, message: r.error_message ?? '' } : null,
  startedAt: r.started_at,
  finishedAt: r.finished_at,
})

export function runHistory(knex: Knex) {
  return {
    /** Record a started run; false when `slot` was already taken (another replica ran that tick). */
    async start(run: Omit<JobRun, 'status' | 'result' | 'error' | 'finishedAt'>, slot?: string) {
      try {
        await knex(TABLE).insert({
          id: run.id,
          job: run.job,
          tenant: run.tenant,
          trigger: run.trigger,
          slot: slot ?? null,
          status: 'running',
          holder: run.holder,
          input_json: JSON.stringify(run.input ?? null),
          started_at: run.startedAt,
        })
        return true
      } catch (err) {
        if (slot && (await knex(TABLE).where({ slot }).first('id'))) return false
        throw err
      }
    },
    async finish(
      id: string,
      outcome: { result: Record<string, unknown> | null } | { error: { code: string; message: string } },
    ): Promise<JobRun> {
      await knex(TABLE)
        .where({ id })
        .update(
          'error' in outcome
            ? {
                status: 'failed',
                error_code: outcome.error.code,
                error_message: outcome.error.message.slice(0, 2000),
                finished_at: new Date().toISOString(),
              }
            : {
                status: 'succeeded',
                result_json: outcome.result ? JSON.stringify(outcome.result) : null,
                finished_at: new Date().toISOString(),
              },
        )
      return fromRow((await knex(TABLE).where({ id }).first()) as Row)
    },
    async list(filter: { tenant?: string; job?: string; limit?: number } = {}): Promise<JobRun[]> {
      const q = knex(TABLE)
        .orderBy('started_at', 'desc')
        .orderBy('id')
        .limit(Math.min(Math.max(filter.limit ?? 50, 1), 1000))
      if (filter.tenant) q.where({ tenant: filter.tenant })
      if (filter.job) q.where({ job: filter.job })
      return ((await q) as Row[]).map(fromRow)
    },
  }
}
