import type { Command } from 'commander'
import { HubError } from '../../errors.ts'

interface ExportOptions {
  tenant?: string
  db?: string
  model?: string
}

/** `hub model export`: the model a tenant (or a data source) is served with, as an editable overrides file. */
export function register(program: Command): void {
  const model = program.command('model').description('Inspect and export semantic models')
  model
    .command('export')
    .description(
      'Print the model as a YAML overrides file (vocabulary, kinds, units, inferred relationships); edit it and load it back with --model <path> or `hub tenant set-model`',
    )
    .option('--tenant <id>', 'a registered tenant')
    .option('--db <url>', 'a data source URL (sqlite:<path>, mysql://… or postgres://…)')
    .option('--model <name|path>', 'overrides to start from, with --db')
    .action(async (opts: ExportOptions) => {
      if (Boolean(opts.tenant) === Boolean(opts.db))
        throw new HubError('BAD_REQUEST', 'Say which model to export: --tenant <id> or --db <url>')
      if (opts.tenant && opts.model)
        throw new HubError('BAD_REQUEST', '--model goes with --db; a tenant has its own model')
      // imported here, not above: `hub --help` should not load the engine
      const { exportOverridesYaml } = await import('../../engine/index.ts')
      if (opts.tenant) {
        const { getTenantModel } = await import('../../tenants/index.ts')
        process.stdout.write(exportOverridesYaml(await getTenantModel(opts.tenant)))
        return
      }
      const { introspect, openDataSource } = await import('../../db/index.ts')
      const { inferModel, loadOverrides, withInferredKeys } = await import('../../engine/index.ts')
      const ds = openDataSource(opts.db as string, { readOnly: true })
      try {
        const schema = await withInferredKeys(await introspect(ds), ds)
        const m = inferModel(schema, opts.model ? await loadOverrides(opts.model) : undefined)
        process.stdout.write(exportOverridesYaml(m))
      } finally {
        await ds.knex.destroy()
      }
    })
}
