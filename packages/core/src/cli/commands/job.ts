import type { Command } from 'commander'
import { HubError } from '../../errors.ts'
import type { createJobRunner, JobRun } from '../../jobs/index.ts'
import { installedConnectors, parseInput } from '../connector-args.ts'
import type { CliHub } from '../hub-runtime.ts'

/** `<connector>:<job>` → its parts. */
function jobRef(ref: string): { connector: string; job: string } {
  const m = /^([a-z][a-z0-9]*):([A-Za-z][\w-]*)$/.exec(ref)
  if (!m) throw new HubError('BAD_REQUEST', `Name a job as <connector>:<job>, not '${ref}'`)
  return { connector: m[1] as string, job: m[2] as string }
}

async function withRunner<T>(fn: (cli: CliHub, runner: ReturnType<typeof createJobRunner>) => Promise<T>) {
  // imported when a command runs, not for `hub --help`: they open the registry, the engine and BullMQ
  const { openCliHub } = await import('../hub-runtime.ts')
  const { createJobRunner } = await import('../../jobs/index.ts')
  const connectors = await installedConnectors()
  const cli = await openCliHub()
  const runner = createJobRunner({
    host: cli.host,
    knex: cli.metadata.knex,
    connectors,
    redisUrl: cli.config.redisUrl,
    dispatchTimeoutMs: cli.config.jobDispatchTimeoutMs,
  })
  try {
    return await fn(cli, runner)
  } finally {
    await runner.close()
    await cli.close()
  }
}

function line(run: JobRun): string {
  const took =
    run.finishedAt === null
      ? ''
      : ` in ${((Date.parse(run.finishedAt) - Date.parse(run.startedAt)) / 1000).toFixed(1)} s`
  const error = run.error ? ` — ${run.error.code}: ${run.error.message}` : ''
  return `${run.startedAt}  ${run.job}  ${run.tenant}  ${run.trigger}  ${run.status}${took}${error}  ${run.id}`
}

/** `hub job run | history | schedule`: connector jobs, run under the same lease as the hub's. */
export function register(program: Command): void {
  const job = program.command('job').description('Run connector jobs, schedule them, read their history')
  job
    .command('run <connector:job>')
    .description('Run a job now for one tenant (waits; a progress bar on a terminal)')
    .requiredOption('--tenant <id>', 'the tenant to run it for')
    .option('--input <json>', 'the job input as JSON (checked against its schema)')
    .action(async (ref: string, opts: { tenant: string; input?: string }) => {
      const { connector, job: name } = jobRef(ref)
      const input = parseInput(opts.input)
      const bar = process.stderr.isTTY
        ? new (await import('cli-progress')).SingleBar({
            stream: process.stderr,
            format: `${ref} [{bar}] {value}/{total} {message}`,
          })
        : null
      let started = false
      const run = await withRunner(async (cli, runner) => {
        if (!(await cli.tenants.exists(opts.tenant)))
          throw new HubError('NOT_FOUND', `No tenant '${opts.tenant}'`)
        try {
          return await runner.run(
            { connector, job: name, tenant: opts.tenant, input, trigger: 'cli' },
            {
              onProgress: (done, total, message) => {
                if (!bar) return
                if (!started) bar.start(total ?? done, done, { message: message ?? '' })
                started = true
                bar.setTotal(total ?? Math.max(done, 1))
                bar.update(done, { message: message ?? '' })
              },
            },
          )
        } finally {
          bar?.stop()
        }
      })
      process.stdout.write(`${line(run)}\n`)
      if (run.result) process.stdout.write(`${JSON.stringify(run.result)}\n`)
      if (run.status === 'failed') process.exitCode = 2
    })
  job
    .command('history')
    .description('Recent runs, newest first')
    .option('--tenant <id>', 'only this tenant')
    .option('--limit <n>', 'at most this many (default 50)')
    .option('--json', 'one JSON object per line')
    .action(async (opts: { tenant?: string; limit?: string; json?: boolean }) => {
      const runs = await withRunner((_, runner) =>
        runner.history({ ...(opts.tenant ? { tenant: opts.tenant } : {}), limit: Number(opts.limit ?? 50) }),
      )
      for (const run of runs) process.stdout.write(`${opts.json ? JSON.stringify(run) : line(run)}\n`)
    })
  job
    .command('schedule <connector:job>')
    .description('Run a job for a tenant on a cron schedule (5 or 6 fields), or --remove it')
    .requiredOption('--tenant <id>', 'the tenant')
    .option('--cron <expression>', "e.g. '0 2 * * *' (02:00 every day, the hub's time zone)")
    .option('--input <json>', 'the input of every run')
    .option('--remove', 'remove the schedule')
    .action(
      async (ref: string, opts: { tenant: string; cron?: string; input?: string; remove?: boolean }) => {
        const { connector, job: name } = jobRef(ref)
        await withRunner(async (cli, runner) => {
          // Removing needs no live tenant: a schedule left behind by a removed tenant can still go.
          if (opts.remove) {
            if (!(await runner.schedules.remove(ref, opts.tenant)))
              throw new HubError('NOT_FOUND', 'No such schedule')
            process.stdout.write(`schedule of ${ref} for ${opts.tenant} removed\n`)
            return
          }
          if (!(await cli.tenants.exists(opts.tenant)))
            throw new HubError('NOT_FOUND', `No tenant '${opts.tenant}'`)
          if (!opts.cron) throw new HubError('BAD_REQUEST', 'Give --cron <expression>, or --remove')
          const { findJob, parseJobInput } = await import('../../jobs/execute.ts')
          const found = findJob(await installedConnectors(), connector, name)
          const input = parseJobInput(found.job, ref, parseInput(opts.input))
          await runner.schedules.set({ job: ref, tenant: opts.tenant, cron: opts.cron, input })
          process.stdout.write(
            `${ref} scheduled for ${opts.tenant}: ${opts.cron} (running hubs pick it up within a minute)\n`,
          )
        })
      },
    )
}
