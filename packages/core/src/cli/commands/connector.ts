import type { Command } from 'commander'
import { createAuditLog } from '../../audit/index.ts'
import { configKeys, envSection, setTenantSettings, tenantSettings } from '../../connectors/config-section.ts'
import { secretAdmin } from '../../connectors/secret-store.ts'
import { HubError } from '../../errors.ts'
import { installedConnector, parseAssignments } from '../connector-args.ts'
import type { CliHub } from '../hub-runtime.ts'

async function withTenant<T>(tenant: string, fn: (cli: CliHub) => Promise<T>): Promise<T> {
  // imported when a command runs, not for `hub --help`: it opens the registry and the engine
  const { openCliHub } = await import('../hub-runtime.ts')
  const cli = await openCliHub()
  try {
    if (!(await cli.tenants.exists(tenant))) throw new HubError('NOT_FOUND', `No tenant '${tenant}'`)
    return await fn(cli)
  } finally {
    await cli.close()
  }
}

/** An operator change, on the tenant's own chain (names only, never a value). */
async function audit(cli: CliHub, tenant: string, action: string, resource: string, names: string[]) {
  await createAuditLog(cli.metadata, { home: cli.config.home }).append(tenant, {
    action,
    resource,
    outcome: 'success',
    channel: 'cli',
    subject: 'local-operator',
    detail: { names },
  })
}

/**
 * `hub connector secret set|list|remove` and `hub connector config`: per-tenant connector
 * credentials (sealed with the hub's secret key, write-only: no command or API prints a value)
 * and settings (checked against the connector's config schema).
 */
export function register(program: Command): void {
  const connector = program.command('connector').description("Connectors' per-tenant secrets and settings")
  const secret = connector
    .command('secret')
    .description('Credentials a connector uses for a tenant (write-only)')
  secret
    .command('set <connector> <assignments...>')
    .description('Store secrets: name=value, or name=@file to read the value from a file')
    .requiredOption('--tenant <id>', 'the tenant the credentials belong to')
    .action(async (name: string, pairs: string[], opts: { tenant: string }) => {
      const c = await installedConnector(name)
      const values = parseAssignments(pairs, true)
      await withTenant(opts.tenant, async (cli) => {
        const admin = secretAdmin(cli.metadata.knex, cli.secrets)
        for (const [key, value] of Object.entries(values)) await admin.set(c.name, opts.tenant, key, value)
        await audit(cli, opts.tenant, 'connector.secret.set', `connector:${c.name}`, Object.keys(values))
      })
      process.stdout.write(`${Object.keys(values).length} secret(s) of ${c.name} stored for ${opts.tenant}\n`)
    })
  secret
    .command('list <connector>')
    .description('Names of the stored secrets (never their values)')
    .requiredOption('--tenant <id>', 'the tenant')
    .action(async (name: string, opts: { tenant: string }) => {
      const c = await installedConnector(name)
      const names = await withTenant(opts.tenant, (cli) =>
        secretAdmin(cli.metadata.knex, cli.secrets).names(c.name, opts.tenant),
      )
      for (const n of names) process.stdout.write(`${n.name}\t${n.updatedAt}\n`)
    })
  secret
    .command('remove <connector> <names...>')
    .description('Delete stored secrets')
    .requiredOption('--tenant <id>', 'the tenant')
    .action(async (name: string, names: string[], opts: { tenant: string }) => {
      const c = await installedConnector(name)
      await withTenant(opts.tenant, async (cli) => {
        const admin = secretAdmin(cli.metadata.knex, cli.secrets)
        // All or nothing: every name is checked before any secret is deleted.
        const stored = new Set((await admin.names(c.name, opts.tenant)).map((s) => s.name))
        const missing = names.filter((n) => !stored.has(n))
        if (missing.length > 0)
          throw new HubError(
            'NOT_FOUND',
            `No secret ${missing.map((n) => `'${n}'`).join(', ')}; none removed`,
          )
        const removed: string[] = []
        try {
          for (const n of new Set(names)) if (await admin.remove(c.name, opts.tenant, n)) removed.push(n)
        } finally {
          // What was deleted is audited even when a later delete fails.
          if (removed.length > 0)
            await audit(cli, opts.tenant, 'connector.secret.remove', `connector:${c.name}`, removed)
        }
      })
      process.stdout.write(`${names.length} secret(s) removed\n`)
    })

  connector
    .command('config <connector> [assignments...]')
    .description("Set a tenant's connector settings (KEY=value); without any, print them")
    .requiredOption('--tenant <id>', 'the tenant')
    .action(async (name: string, pairs: string[], opts: { tenant: string }) => {
      const c = await installedConnector(name)
      await withTenant(opts.tenant, async (cli) => {
        if (pairs.length === 0) {
          const own = await tenantSettings(cli.metadata.knex, c.name, opts.tenant)
          for (const key of configKeys(c)) process.stdout.write(`${key}\t${own[key] ?? '(hub default)'}\n`)
          return
        }
        const values = parseAssignments(pairs, false)
        await setTenantSettings(cli.metadata.knex, c, envSection(c, process.env), opts.tenant, values)
        await audit(cli, opts.tenant, 'connector.config.set', `connector:${c.name}`, Object.keys(values))
        process.stdout.write(
          `${Object.keys(values).length} setting(s) of ${c.name} stored for ${opts.tenant}\n`,
        )
      })
    })
}
