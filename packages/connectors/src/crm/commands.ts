import type { CommandContext } from '@nl2q/core'
import type { Command } from 'commander'
import type { CrmConfig } from './config.ts'
import { crmStatus, type RunHooks, runPush, runSync } from './runs.ts'
import type { RunReport } from './sync/run-report.ts'

/** A progress bar on a terminal (stderr), nothing otherwise. */
async function terminalProgress(label: string): Promise<{ hooks: RunHooks; stop(): void }> {
  if (!process.stderr.isTTY) return { hooks: {}, stop() {} }
  const { SingleBar } = await import('cli-progress')
  const bar = new SingleBar({ stream: process.stderr, format: `${label} [{bar}] {value}/{total} {message}` })
  let started = false
  return {
    hooks: {
      progress(done, total, message) {
        if (!started) bar.start(total ?? done, done, { message })
        started = true
        bar.setTotal(total ?? Math.max(done, 1))
        bar.update(done, { message })
      },
    },
    stop: () => bar.stop(),
  }
}

function print(report: RunReport): void {
  const { errors, changes, ...summary } = report
  process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`)
  if (report.dryRun && changes)
    for (const c of changes) process.stdout.write(`~ Account ${c.id} ${JSON.stringify(c.fields)}\n`)
  for (const e of errors) process.stderr.write(`error ${e.object} ${e.id}: ${e.message}\n`)
  // 0 done, 1 failed, 75 (EX_TEMPFAIL) stopped near the API limit: run again later to resume.
  process.exitCode = report.status === 'succeeded' ? 0 : report.status === 'stopped' ? 75 : 1
}

/** `hub crm sync|push|status --tenant t`. */
export function registerCrmCommands(program: Command, ctx: CommandContext<CrmConfig>): void {
  const crm = program
    .command('crm')
    .description('Veeva CRM on Salesforce: sync activity in, push insights back')
  crm
    .command('sync')
    .description('Sync mapped CRM objects into the tenant’s write target (incremental; full with --full)')
    .requiredOption('--tenant <id>', 'the tenant')
    .option('--full', 'full sync through Bulk API 2.0 (resumes an interrupted one)')
    .option('--objects <names>', 'comma-separated sObjects of the mapping (default: all)')
    .option('--dry-run', 'read from Salesforce, count what would change, write nothing')
    .action(async (opts: { tenant: string; full?: boolean; objects?: string; dryRun?: boolean }) => {
      const scope = await ctx.open(opts.tenant)
      const bar = await terminalProgress('crm sync')
      try {
        const objects = opts.objects
          ?.split(',')
          .map((s) => s.trim())
          .filter(Boolean)
        print(
          await runSync(
            scope,
            { full: opts.full === true, dryRun: opts.dryRun === true, ...(objects ? { objects } : {}) },
            bar.hooks,
          ),
        )
      } finally {
        bar.stop()
        await scope.close()
      }
    })
  crm
    .command('push')
    .description('Write changed per-HCP insights back to Account fields')
    .requiredOption('--tenant <id>', 'the tenant')
    .option('--dry-run', 'print the diff, write nothing')
    .action(async (opts: { tenant: string; dryRun?: boolean }) => {
      const scope = await ctx.open(opts.tenant)
      const bar = await terminalProgress('crm push')
      try {
        print(await runPush(scope, { dryRun: opts.dryRun === true }, bar.hooks))
      } finally {
        bar.stop()
        await scope.close()
      }
    })
  crm
    .command('status')
    .description('Watermarks, interrupted full syncs, last runs, API usage')
    .requiredOption('--tenant <id>', 'the tenant')
    .action(async (opts: { tenant: string }) => {
      const scope = await ctx.open(opts.tenant)
      try {
        process.stdout.write(`${JSON.stringify(await crmStatus(scope), null, 2)}\n`)
      } finally {
        await scope.close()
      }
    })
}
