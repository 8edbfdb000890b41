import type { Command } from 'commander'
import { type AuditLog, createAuditLog } from '../../audit/index.ts'
import { loadConfig } from '../../config/index.ts'
import { openMetadataStore } from '../../metadata/store.ts'

async function withAudit<T>(
  fn: (audit: AuditLog, knex: ReturnType<typeof openMetadataStore>['knex']) => Promise<T>,
) {
  const config = loadConfig()
  const metadata = openMetadataStore(config.databaseUrl, config.home)
  try {
    await metadata.migrate()
    return await fn(createAuditLog(metadata, { home: config.home }), metadata.knex)
  } finally {
    await metadata.close()
  }
}

export function register(program: Command): void {
  const audit = program
    .command('audit')
    .description('Verify, checkpoint and read the hash-chained audit trail')
  audit
    .command('verify')
    .description('Re-hash every chain and compare it with its head and signed checkpoints; exit 1 if broken')
    .option('--tenant <id>', 'one tenant (default: every chain, including _hub)')
    .option('--json', 'JSON output')
    .action(async (opts: { tenant?: string; json?: boolean }) => {
      await withAudit(async (log, knex) => {
        const result = await log.verify(opts.tenant)
        if (result.ok) {
          process.stdout.write(
            opts.json
              ? `${JSON.stringify(result)}\n`
              : `ok: ${result.count} events in ${result.tenants} chain(s) intact` +
                  `${result.checkpointSeq !== null ? `, consistent with the checkpoint at seq ${result.checkpointSeq}` : ''}\n`,
          )
          return
        }
        const record = await knex('audit_events').where({ tenant: result.tenant, seq: result.seq }).first()
        if (opts.json) process.stdout.write(`${JSON.stringify({ ...result, record: record ?? null })}\n`)
        else {
          process.stdout.write(`BROKEN: tenant ${result.tenant}, seq ${result.seq}: ${result.reason}\n`)
          process.stdout.write(
            record ? `first bad record: ${JSON.stringify(record)}\n` : 'first bad record: (missing)\n',
          )
        }
        process.exitCode = 1
      })
    })
  audit
    .command('checkpoint')
    .description('Sign the current head of every chain (or one) with the key in HUB_HOME')
    .option('--tenant <id>', 'one tenant')
    .action(async (opts: { tenant?: string }) => {
      await withAudit(async (log) => {
        for (const cp of await log.checkpoint(opts.tenant)) {
          process.stdout.write(`checkpoint ${cp.tenant} seq ${cp.seq} ${cp.hash} (key ${cp.keyId})\n`)
        }
      })
    })
  audit
    .command('list')
    .description("Print a tenant's newest audit events")
    .requiredOption('--tenant <id>', 'the tenant (or _hub)')
    .option('--limit <n>', 'how many', (v) => Number.parseInt(v, 10), 50)
    .option('--action <action>', 'only this action')
    .option('--json', 'JSON lines output')
    .action(async (opts: { tenant: string; limit: number; action?: string; json?: boolean }) => {
      await withAudit(async (log) => {
        const page = await log.list(opts.tenant, { limit: opts.limit, action: opts.action })
        for (const e of page.items) {
          process.stdout.write(
            opts.json
              ? `${JSON.stringify(e)}\n`
              : `${e.seq}\t${e.time}\t${e.action}\t${e.outcome}\t${e.subject ?? '-'}\t${e.resource ?? ''}\n`,
          )
        }
      })
    })
}
