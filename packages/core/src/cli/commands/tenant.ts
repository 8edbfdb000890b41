import type { Command } from 'commander'
import { loadConfig } from '../../config/index.ts'
import { type Engine, loadOverrides } from '../../engine/index.ts'
import { formatPolicyReport, policyReport } from '../../engine/policy-report.ts'
import { HubError } from '../../errors.ts'
import { openMetadataStore } from '../../metadata/store.ts'
import { localPrincipal } from '../../principal.ts'
import { createInvalidationBus, openRedis } from '../../redis/index.ts'
import { answerableExamples, matchingBundledModel } from '../../tenants/onboarding.ts'
import { createTenantRegistry, type TenantRegistry } from '../../tenants/registry.ts'

async function withRegistry<T>(fn: (tenants: TenantRegistry) => Promise<T>): Promise<T> {
  const config = loadConfig()
  const metadata = openMetadataStore(config.databaseUrl, config.home)
  // With HUB_REDIS_URL, a change made here reaches the running replicas (model, limits)
  const redis = config.redisUrl ? await openRedis({ url: config.redisUrl, name: 'nl2q-cli' }) : undefined
  const bus = redis ? await createInvalidationBus({ redis }) : undefined
  try {
    await metadata.migrate()
    return await fn(
      createTenantRegistry({
        metadata,
        baseDir: config.home,
        onInvalidate: (id) => bus?.publish(id),
      }),
    )
  } finally {
    await metadata.close()
    await redis?.quit().catch(() => redis.disconnect())
  }
}

/**
 * Print which row rules reach each dataset of the tenant, and how; warnings go to stderr too, so
 * they are seen when stdout is piped. Returns the datasets no rule can reach.
 */
function printPolicyReach(model: Parameters<typeof policyReport>[0]): string[] {
  const report = policyReport(model)
  for (const line of formatPolicyReport(report)) {
    process.stdout.write(`${line}\n`)
    if (line.startsWith('WARNING:')) process.stderr.write(`${line}\n`)
  }
  return report.unreachable
}

/** The model's datasets, a bundled model the schema looks like, and examples that ran. */
async function describeNewTenant(engine: Engine, id: string, model: string | undefined): Promise<void> {
  const principal = localPrincipal(id)
  const out: string[] = []
  const bundled = model ? null : matchingBundledModel(engine.model)
  if (bundled) {
    out.push(
      `hint: these tables look like the ${bundled} schema; its vocabulary and row policy come with --model ${bundled}:`,
      `  hub tenant set-model ${id} ${bundled}`,
    )
  }
  out.push('datasets:')
  for (const d of engine.summarize(principal)) out.push(`  ${d.name.padEnd(24)} ${d.description}`)
  const examples = await answerableExamples(engine, principal)
  if (examples.length > 0) {
    out.push('try (each answered on this data just now):')
    for (const e of examples) out.push(`  hub ask --tenant ${id} "${e.question}"`)
  }
  process.stdout.write(`${out.join('\n')}\n`)
}

export function register(program: Command): void {
  const tenant = program.command('tenant').description('Manage tenants')
  tenant
    .command('add <id>')
    .description('Register a tenant and its data source (the URL is stored, never shown again)')
    .requiredOption('--db <url>', 'sqlite:<path> or mysql://user:pass@host:3306/db')
    .option('--model <name|path>', 'overrides model: a bundled name (pharma) or a YAML/JSON file')
    .option('--no-check', 'do not open the data source and build the model before saving')
    .action(async (id: string, opts: { db: string; model?: string; check: boolean }) => {
      await withRegistry(async (tenants) => {
        const info = await tenants.add({ id, dbUrl: opts.db, model: opts.model ?? null })
        if (opts.check) {
          try {
            const rt = await tenants.runtime(id)
            process.stdout.write(
              `tenant ${info.id} added (${info.dialect}); ${rt.engine.model.datasets.length} datasets\n`,
            )
            printPolicyReach(rt.engine.model)
            await describeNewTenant(rt.engine, id, opts.model)
          } finally {
            await tenants.close()
          }
        } else process.stdout.write(`tenant ${info.id} added (${info.dialect})\n`)
      })
    })
  tenant
    .command('check <id>')
    .description(
      'Show, per dataset, which row-policy rules reach it and by which foreign-key path; exit 1 when a rule exists and some dataset is reached by none',
    )
    .action(async (id: string) => {
      const unreachable = await withRegistry(async (tenants) => {
        try {
          const rt = await tenants.runtime(id)
          process.stdout.write(
            `tenant ${id} (${rt.ds.dialect}); ${rt.engine.model.datasets.length} datasets\n`,
          )
          return printPolicyReach(rt.engine.model)
        } finally {
          await tenants.close()
        }
      })
      if (unreachable.length > 0) process.exitCode = 1
    })
  tenant
    .command('set-model <id> <model>')
    .description('Use an overrides model for a tenant: a bundled name (pharma) or a YAML/JSON file')
    .action(async (id: string, model: string) => {
      await loadOverrides(model)
      await withRegistry((tenants) => tenants.setModel(id, model))
      process.stdout.write(`tenant ${id} now uses model ${model} (running hubs: POST /v1/admin/refresh)\n`)
    })
  tenant
    .command('limits <id> [limits...]')
    .description('Show or set per-role rate limits, e.g. `hub tenant limits acme analyst=200 default=500`')
    .action(async (id: string, limits: string[]) => {
      const rateLimits: Record<string, number> = {}
      for (const item of limits) {
        const m = /^(admin|analyst|viewer|integration|default)=(\d+)$/.exec(item)
        if (!m)
          throw new HubError(
            'VALIDATION_FAILED',
            `'${item}' is not role=requests (roles: admin, analyst, viewer, integration, default)`,
          )
        rateLimits[m[1]!] = Number(m[2])
      }
      const settings = await withRegistry((tenants) =>
        limits.length ? tenants.updateSettings(id, { rateLimits }) : tenants.settings(id),
      )
      process.stdout.write(`${JSON.stringify(settings.rateLimits ?? {})}\n`)
    })
  tenant
    .command('list')
    .description('List tenants (never their database URLs)')
    .option('--json', 'JSON output')
    .action(async (opts: { json?: boolean }) => {
      const list = await withRegistry((t) => t.list())
      if (opts.json) process.stdout.write(`${JSON.stringify(list)}\n`)
      else
        for (const t of list)
          process.stdout.write(`${t.id}\t${t.dialect}\t${t.model ?? '(inferred)'}\t${t.createdAt}\n`)
    })
}
