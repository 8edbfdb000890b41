import { type Connector, defineConnector, type HealthCheck } from '@nl2q/core'
import { loadPowerBiSettings } from './config.ts'
import { mezRoutes } from './mez/route.ts'
import { writeMez } from './mez/write.ts'
import { odataRoutes } from './odata/routes.ts'
import { savedQuestionRoutes } from './saved-questions/routes.ts'
import { type SavedQuestionStore, savedQuestionStore } from './saved-questions/store.ts'

/** Where the feed and the connector download are mounted. */
export const ODATA_PREFIX = '/odata'
export const MEZ_PATH = '/powerbi/NL2Q.mez'

export interface PowerBiConnectorOptions {
  /** Rows per OData response; default HUB_ODATA_PAGE_SIZE or 10000 (clamped below HUB_MAX_ROWS). */
  pageSize?: number
}

/**
 * The Power BI connector: the OData v4 feed at /odata, saved questions at /v1/saved-questions and
 * the Power Query custom connector for download at /powerbi/NL2Q.mez. One instance per hub (it
 * holds the saved-questions store of that hub).
 */
export function createPowerBiConnector(options: PowerBiConnectorOptions = {}): Connector {
  let store: SavedQuestionStore | null = null
  return defineConnector({
    name: 'odata',
    routes(app, ctx) {
      const pageSize = options.pageSize ?? loadPowerBiSettings().pageSize
      // Saved questions live in the hub's own metadata store (one pool: SQLite allows one writer).
      const opened = savedQuestionStore(ctx.metadata.knex)
      store = opened
      // Create the table at start-up; a failure surfaces on use as SERVICE_UNAVAILABLE and in health.
      opened.migrate().catch((err: unknown) => ctx.logger.error({ err }, 'saved-questions migration failed'))
      app.route('/', odataRoutes({ ctx, store: opened, pageSize, prefix: ODATA_PREFIX }))
      app.route('/', savedQuestionRoutes({ ctx, store: opened, feedPrefix: ODATA_PREFIX }))
      app.route('/', mezRoutes(MEZ_PATH))
    },
    commands(program) {
      const powerbi = program.command('powerbi').description('Power BI: the Power Query custom connector')
      powerbi
        .command('build-mez')
        .description(`Build NL2Q.mez (the hub also serves it at ${MEZ_PATH})`)
        .option('--out <file>', 'where to write it (default packages/powerbi-connector/dist/NL2Q.mez)')
        .action((opts: { out?: string }) => {
          const { path, bytes } = writeMez(opts.out)
          process.stdout.write(`wrote ${path} (${bytes} bytes)\n`)
        })
    },
    async health(): Promise<HealthCheck> {
      if (!store) return { name: 'odata', ok: true, detail: 'routes not mounted' }
      try {
        await store.migrate()
        return { name: 'odata', ok: true }
      } catch (err) {
        return { name: 'odata', ok: false, detail: (err as Error).message }
      }
    },
    async close() {
      await store?.close()
      store = null
    },
  })
}

export default createPowerBiConnector()
