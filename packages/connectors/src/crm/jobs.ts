import { defineJob, HubError, type Job } from '@nl2q/core'
import { z } from 'zod'
import type { CrmConfig } from './config.ts'
import { runPush, runSync } from './runs.ts'
import type { RunReport } from './sync/run-report.ts'

const summary = (r: RunReport) => ({
  status: r.status,
  objects: r.objects,
  errors: r.errorCount,
  ...(r.api ? { api: r.api } : {}),
})

function settle(r: RunReport): Record<string, unknown> {
  if (r.status === 'failed') throw new HubError('SERVICE_UNAVAILABLE', r.message ?? `crm ${r.kind} failed`)
  return summary(r)
}

/** Jobs (`hub job run crm:sync --tenant t`, or scheduled): the same runs as the CLI, as the integration principal. */
export const crmJobs: Record<string, Job<CrmConfig>> = {
  sync: defineJob({
    description: 'Sync CRM objects into the tenant’s write target',
    input: z
      .object({
        full: z.boolean().default(false),
        objects: z.array(z.string().min(1)).max(50).optional(),
        dryRun: z.boolean().default(false),
      })
      .strict(),
    async run(input, ctx) {
      const { signal, progress } = ctx
      return settle(await runSync(ctx, input, { signal, progress }))
    },
  }) as Job<CrmConfig>,
  push: defineJob({
    description: 'Push changed per-HCP insights to Account fields',
    input: z.object({ dryRun: z.boolean().default(false) }).strict(),
    async run(input, ctx) {
      const { signal, progress } = ctx
      return settle(await runPush(ctx, input, { signal, progress }))
    },
  }) as Job<CrmConfig>,
}
