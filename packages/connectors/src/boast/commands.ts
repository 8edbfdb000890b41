import type { CommandContext, Connector } from '@nl2q/core'
import { HubError } from '@nl2q/core'
import type { BoastConfig } from './config.ts'
import { ExportInputSchema } from './export/spec.ts'

interface ExportOptions {
  tenant: string
  saved?: string
  question?: string
  plan?: string
  to?: string
  asOf?: string
  now?: boolean
  cron?: string
  export?: string
  gzip: boolean
  delimiter?: string
  force?: boolean
}

/** The job input from the command line, validated by the job's own schema. */
export function exportInputOf(opts: ExportOptions): Record<string, unknown> {
  let plan: unknown
  if (opts.plan !== undefined) {
    try {
      plan = JSON.parse(opts.plan)
    } catch (cause) {
      throw new HubError('BAD_REQUEST', '--plan is not JSON', { cause })
    }
  }
  const input = {
    ...(opts.export ? { export: opts.export } : {}),
    ...(opts.saved !== undefined ? { saved: opts.saved } : {}),
    ...(opts.question !== undefined ? { question: opts.question } : {}),
    ...(plan !== undefined ? { plan } : {}),
    ...(opts.to ? { to: opts.to } : {}),
    ...(opts.asOf ? { asOf: opts.asOf } : {}),
    ...(opts.gzip === false ? { gzip: false } : {}),
    ...(opts.delimiter !== undefined ? { delimiter: opts.delimiter === '\\t' ? '\t' : opts.delimiter } : {}),
    ...(opts.force ? { force: true } : {}),
  }
  const parsed = ExportInputSchema.safeParse(input)
  if (!parsed.success)
    throw new HubError(
      'BAD_REQUEST',
      parsed.error.issues.map((i) => `${i.path.join('.') || 'export'}: ${i.message}`).join('; '),
    )
  return input
}

/** `hub boast export …` (run now and/or schedule) and `hub boast poll` (the inbox, now). */
type Command = Parameters<NonNullable<Connector['commands']>>[0]

export function boastCommands(cli: Command, ctx: CommandContext<BoastConfig>): void {
  const boast = cli
    .command('boast')
    .description('BOAST file exchange over SFTP: exports out, validated files in')
  boast
    .command('export')
    .description(
      'Export the answer to a saved question or a question as CSV to SFTP or Microsoft 365 (now, or on a schedule)',
    )
    .requiredOption('--tenant <id>', 'the tenant')
    .option('--saved <name>', 'a saved question (Power BI connector) by name')
    .option('--question <text>', 'a question in words')
    .option('--plan <json>', 'a typed QueryPlan as JSON')
    .option(
      '--to <url>',
      'destination (sftp://user@host:port/dir, m365://sites/<site>/drives/<drive>/root:/dir/, file:///dir); default export_to',
    )
    .option('--as-of <date>', 'the date the question is answered as of (YYYY-MM-DD; default today)')
    .option('--export <id>', 'the export id in file names (default from the question)')
    .option('--delimiter <char>', "CSV delimiter (default the csv_delimiter setting, ','; '\\t' for tab)")
    .option('--no-gzip', 'plain .csv instead of .csv.gz')
    .option('--force', 'deliver again even if this export and date were delivered')
    .option('--now', 'run it now and wait (run history and audit as for hub job run)')
    .option('--cron <expression>', 'run it on this cron schedule (one scheduled export per tenant)')
    .action(async (opts: ExportOptions) => {
      if (!opts.now && !opts.cron)
        throw new HubError('BAD_REQUEST', 'give --now, --cron <expression>, or both')
      const input = exportInputOf(opts)
      if (opts.cron) {
        await ctx.scheduleJob(opts.tenant, 'export', input, opts.cron)
        process.stdout.write(`boast:export scheduled for ${opts.tenant}: ${opts.cron}\n`)
      }
      if (opts.now) {
        const run = await ctx.runJob(opts.tenant, 'export', input)
        process.stdout.write(
          `${JSON.stringify({ runId: run.id, status: run.status, ...(run.result ?? {}), ...(run.error ? { error: run.error } : {}) })}\n`,
        )
        if (run.status === 'failed') process.exitCode = 2
      }
    })
  boast
    .command('poll')
    .description('Take the files waiting in the inbox now (validated, loaded, moved)')
    .requiredOption('--tenant <id>', 'the tenant')
    .option('--inbox <url>', 'the inbox (default the inbox_url setting)')
    .action(async (opts: { tenant: string; inbox?: string }) => {
      const run = await ctx.runJob(opts.tenant, 'poll', opts.inbox ? { inbox: opts.inbox } : {})
      process.stdout.write(
        `${JSON.stringify({ runId: run.id, status: run.status, ...(run.result ?? {}), ...(run.error ? { error: run.error } : {}) })}\n`,
      )
      if (run.status === 'failed') process.exitCode = 2
    })
}
