import { Cron } from 'croner'
import type { Knex } from 'knex'
import { HubError } from '../errors.ts'

const TABLE = 'job_schedules'

export interface JobSchedule {
  /** `<connector>:<job>` */
  job: string
  tenant: string
  cron: string
  input: unknown
}

/** Cron schedules per (job, tenant) in the metadata store (`hub job schedule`). */
export function jobSchedules(knex: Knex) {
  return {
    async set(schedule: JobSchedule): Promise<void> {
      try {
        new Cron(schedule.cron, { paused: true }).stop()
      } catch (cause) {
        throw new HubError('BAD_REQUEST', `'${schedule.cron}' is not a cron expression`, { cause })
      }
      await knex(TABLE)
        .insert({
          job: schedule.job,
          tenant: schedule.tenant,
          cron: schedule.cron,
          input_json: JSON.stringify(schedule.input ?? {}),
          updated_at: new Date().toISOString(),
        })
        .onConflict(['job', 'tenant'])
        .merge(['cron', 'input_json', 'updated_at'])
    },
    async remove(job: string, tenant: string): Promise<boolean> {
      return (await knex(TABLE).where({ job, tenant }).delete()) > 0
    },
    async list(): Promise<JobSchedule[]> {
      const rows = (await knex(TABLE).orderBy(['job', 'tenant'])) as {
        job: string
        tenant: string
        cron: string
        input_json: string
      }[]
      return rows.map((r) => ({
        job: r.job,
        tenant: r.tenant,
        cron: r.cron,
        input: JSON.parse(r.input_json) as unknown,
      }))
    },
  }
}
