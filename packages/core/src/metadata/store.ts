import type { Knex } from 'knex'
import { type DataSource, openDataSource, parseDataSourceUrl, redactUrl } from '../db/index.ts'
import { secureHome, secureSqliteFile } from './file-modes.ts'
import { closeHotReads } from './hot-read.ts'
import { type Migration, migrations } from './migrations/index.ts'

/** The hub's own database: tenants, API keys, audit, saved questions, jobs. SQLite or MySQL. */
export interface MetadataStore {
  ds: DataSource
  knex: Knex
  dialect: DataSource['dialect']
  /** The URL with secrets removed, for logs. */
  label: string
  migrate(): Promise<string[]>
  close(): Promise<void>
}

const source: Knex.MigrationSource<Migration> = {
  getMigrations: async () => migrations,
  getMigrationName: (m) => m.name,
  getMigration: async (m) => m,
}

export function openMetadataStore(url: string, baseDir?: string): MetadataStore {
  const config = parseDataSourceUrl(url, baseDir)
  if (baseDir) secureHome(baseDir)
  if (config.dialect === 'sqlite') secureSqliteFile(config.filename)
  // SQLite allows one writer: a pool of one connection serialises the hub's own writes instead of
  // letting a second connection block on the file lock (measured: a 5 s stall, then SQLITE_BUSY).
  const ds = openDataSource(url, { baseDir, pool: { max: url.startsWith('sqlite:') ? 1 : 10 } })
  return {
    ds,
    knex: ds.knex,
    dialect: ds.dialect,
    label: redactUrl(url),
    async migrate() {
      const [, applied] = (await ds.knex.migrate.latest({
        migrationSource: source,
        tableName: 'nl2q_migrations',
      })) as [number, string[]]
      return applied
    },
    async close() {
      closeHotReads(ds.knex)
      await ds.knex.destroy()
    },
  }
}
