import { randomUUID } from 'node:crypto'
import type { Command } from 'commander'
import { createAuditLog } from '../../audit/index.ts'
import { loadConfig } from '../../config/index.ts'
import { HubError } from '../../errors.ts'
import { type MetadataStore, openMetadataStore } from '../../metadata/store.ts'
import { secretBoxFor } from '../../secrets/index.ts'
import type { TenantRegistry } from '../../tenants/registry.ts'

async function withRegistry<T>(
  fn: (tenants: TenantRegistry, store: { metadata: MetadataStore; home: string }) => Promise<T>,
): Promise<T> {
  const config = loadConfig()
  // imported when a command runs, not above: `hub --help` should not load the engine
  const { createTenantRegistry } = await import('../../tenants/registry.ts')
  const metadata = openMetadataStore(config.databaseUrl, config.home)
  // With HUB_REDIS_URL, a change made here reaches the running replicas (model, limits, removal)
  const redis = config.redisUrl
    ? await (await import('../../redis/index.ts')).openRedis({ url: config.redisUrl, name: 'nl2q-cli' })
    : undefined
  const bus = redis
    ? await (await import('../../redis/index.ts')).createInvalidationBus({ redis })
    : undefined
  const tenants = createTenantRegistry({
    metadata,
    baseDir: config.home,
    secrets: secretBoxFor(config),
    onInvalidate: (id) => bus?.publish(id),
  })
  try {
    await metadata.migrate()
    return await fn(tenants, { metadata, home: config.home })
  } finally {
    await tenants.close()
    await metadata.close()
    await redis?.quit().catch(() => redis.disconnect())
  }
}

export function register(program: Command): void {
  const tenant = program.command('tenant').description('Manage tenants')
  tenant
    .command('add <id>')
    .description('Register a tenant and its data source (the URL is stored, never shown again)')
    .requiredOption(
      '--db <url>',
      'sqlite:<path>, mysql://user:pass@host:3306/db or postgres://user:pass@host:5432/db',
    )
    .option('--model <name|path>', 'overrides model: a bundled name (pharma) or a YAML/JSON file')
    .option('--no-check', 'do not open the data source and build the model before saving')
    .action(async (id: string, opts: { db: string; model?: string; check: boolean }) => {
      await withRegistry(async (tenants, { metadata, home }) => {
        // Checked before anything is saved: a tenant that cannot be opened is not registered.
        const info = await tenants.add({ id, dbUrl: opts.db, model: opts.model ?? null, check: opts.check })
        process.stdout.write(
          `tenant ${info.id} added (${info.dialect})` +
            `${info.datasets === undefined ? '' : `; ${info.datasets} datasets`}\n`,
        )
        if (opts.check) {
          const rt = await tenants.runtime(id)
          const { describeNewTenant, printPolicyReach } = await import('./tenant-report.ts')
          const { createHub } = await import('../../hub/hub.ts')
          const { bindHub } = await import('../../connectors/bound-hub.ts')
          const { localPrincipal } = await import('../../principal.ts')
          printPolicyReach(rt.engine.model)
          // The example questions read the tenant's data: through the audited hub, like `hub ask`.
          const hub = createHub({ tenants, audit: createAuditLog(metadata, { home }) })
          const bound = bindHub(hub, localPrincipal(id), {
            requestId: randomUUID(),
            clientIp: null,
            channel: 'cli',
          })
          await describeNewTenant(rt.engine, bound, id, opts.model)
        }
      })
    })
  tenant
    .command('remove <id>')
    .description('Remove a tenant: revoke its API keys and erase its URL; its audit trail is kept')
    .action(async (id: string) => {
      await withRegistry(async (tenants, { metadata, home }) => {
        const { revokedKeys } = await tenants.remove(id)
        await createAuditLog(metadata, { home }).append(id, {
          action: 'tenant.remove',
          resource: `tenant:${id}`,
          outcome: 'success',
          channel: 'cli',
          subject: 'local-operator',
          detail: { revokedKeys },
        })
        process.stdout.write(
          `tenant ${id} removed; ${revokedKeys} API key(s) revoked; its audit trail is kept\n`,
        )
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
          const { printPolicyReach } = await import('./tenant-report.ts')
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
      const { loadOverrides } = await import('../../engine/index.ts')
      await loadOverrides(model)
      await withRegistry((tenants) => tenants.setModel(id, model))
      // withRegistry publishes the change on HUB_REDIS_URL: replicas reload it by themselves then
      const reach = loadConfig().redisUrl
        ? 'running hubs sharing HUB_REDIS_URL were notified and reload it on the next request'
        : "running hubs without HUB_REDIS_URL keep the old model until the tenant's admin calls POST /v1/admin/refresh or they restart"
      process.stdout.write(`tenant ${id} now uses model ${model} (${reach})\n`)
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
