import { defineConnector } from '@nl2q/core'
import { PowerBiConfigSchema } from './config.ts'
import { mezRoutes } from './mez/route.ts'
import { writeMez } from './mez/write.ts'
import { odataRoutes } from './odata/routes.ts'
import { savedQuestionRoutes } from './saved-questions/routes.ts'

/** Where the feed and the connector download are mounted. */
export const ODATA_PREFIX = '/odata'
export const MEZ_PATH = '/powerbi/NL2Q.mez'

export interface PowerBiConnectorOptions {
  /** Rows per OData response; default HUB_ODATA_PAGE_SIZE or 10000 (clamped below HUB_MAX_ROWS). */
  pageSize?: number
  /** Read pages as JSON rows where the source allows; default HUB_ODATA_JSON_ROWS (on). */
  jsonRows?: boolean
}

/**
 * The Power BI connector: the OData v4 feed at /odata, saved questions at /v1/saved-questions and
 * the Power Query custom connector for download at /powerbi/NL2Q.mez. Saved questions are its state
 * (`ctx.state`, per tenant), whose tables the core migrates before the hub listens.
 */
export function createPowerBiConnector(options: PowerBiConnectorOptions = {}) {
  return defineConnector({
    name: 'odata',
    config: PowerBiConfigSchema,
    routes(app, ctx) {
      const pageSize = options.pageSize ?? ctx.config.defaults.PAGE_SIZE
      const jsonRows = options.jsonRows ?? ctx.config.defaults.JSON_ROWS === '1'
      app.route('/', odataRoutes({ ctx, pageSize, prefix: ODATA_PREFIX, jsonRows }))
      app.route('/', savedQuestionRoutes({ ctx, feedPrefix: ODATA_PREFIX }))
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
  })
}

export default createPowerBiConnector()
