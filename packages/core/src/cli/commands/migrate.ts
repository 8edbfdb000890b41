import type { Command } from 'commander'
import { loadConfig } from '../../config/index.ts'
import { openMetadataStore } from '../../metadata/store.ts'

export function register(program: Command): void {
  program
    .command('migrate')
    .description('Apply metadata-store migrations (also done at every start)')
    .action(async () => {
      const config = loadConfig()
      const metadata = openMetadataStore(config.databaseUrl, config.home)
      try {
        const applied = await metadata.migrate()
        process.stdout.write(
          applied.length
            ? `applied: ${applied.join(', ')}\n`
            : `metadata store ${metadata.label} is up to date\n`,
        )
      } finally {
        await metadata.close()
      }
    })
}
