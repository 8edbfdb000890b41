import { randomUUID } from 'node:crypto'
import type { Logger } from 'pino'
import { createAuditLog } from '../audit/index.ts'
import { type HubConfig, loadConfig } from '../config/index.ts'
import { type ConnectorHost, connectorRuntime, hubInfo } from '../connectors/context.ts'
import type { CommandContext, Connector } from '../connectors/contract.ts'
import { HubError } from '../errors.ts'
import { createHub, type HubWithControls } from '../hub/hub.ts'
import type { JobRunner } from '../jobs/index.ts'
import { type MetadataStore, openMetadataStore } from '../metadata/store.ts'
import { createMetrics } from '../metrics/registry.ts'
import { localPrincipal } from '../principal.ts'
import { type SecretBox, secretBoxFor } from '../secrets/index.ts'
import { createLogger } from '../service/logger.ts'
import { createTenantRegistry, type TenantRegistry } from '../tenants/registry.ts'

/** The hub opened by an operator command on the hub's own machine (no HTTP server). */
export interface CliHub {
  config: HubConfig
  metadata: MetadataStore
  tenants: TenantRegistry
  hub: HubWithControls
  secrets: SecretBox
  host: ConnectorHost
  close(): Promise<void>
}

export async function openCliHub(logger: Logger = createLogger('warn')): Promise<CliHub> {
  const config = loadConfig()
  const metadata = openMetadataStore(config.databaseUrl, config.home)
  const secrets = secretBoxFor(config)
  const tenants = createTenantRegistry({ metadata, baseDir: config.home, secrets, logger })
  try {
    await metadata.migrate()
  } catch (err) {
    await metadata.close()
    throw err
  }
  const hub = createHub({ tenants, audit: createAuditLog(metadata, { home: config.home }) })
  const host: ConnectorHost = {
    hub,
    knex: metadata.knex,
    secrets,
    registry: createMetrics({ defaultMetrics: false }).registry,
    logger,
    info: hubInfo(config),
    env: process.env,
  }
  return {
    config,
    metadata,
    tenants,
    hub,
    secrets,
    host,
    async close() {
      await tenants.close()
      await metadata.close()
    },
  }
}

/** `commands(cli, ctx)`: `ctx.open(tenant)` opens the hub lazily, bound to that tenant's operator. */
export function commandContext(
  connector: Connector,
  logger: Logger,
): CommandContext<Record<string, unknown>> {
  /** A job runner over the installed connectors (this one included) for a live tenant. */
  async function withRunner<T>(tenant: string, fn: (runner: JobRunner) => Promise<T>): Promise<T> {
    const { createJobRunner } = await import('../jobs/index.ts')
    const { installedConnectors } = await import('./connector-args.ts')
    const cli = await openCliHub(logger)
    try {
      if (!(await cli.tenants.exists(tenant))) throw new HubError('NOT_FOUND', `No tenant '${tenant}'`)
      const installed = await installedConnectors()
      const runner = createJobRunner({
        host: cli.host,
        knex: cli.metadata.knex,
        connectors: installed.some((c) => c.name === connector.name) ? installed : [...installed, connector],
        redisUrl: cli.config.redisUrl,
        dispatchTimeoutMs: cli.config.jobDispatchTimeoutMs,
      })
      try {
        return await fn(runner)
      } finally {
        await runner.close()
      }
    } finally {
      await cli.close()
    }
  }
  return {
    logger,
    async open(tenant) {
      const cli = await openCliHub(logger)
      try {
        if (!(await cli.tenants.exists(tenant))) throw new HubError('NOT_FOUND', `No tenant '${tenant}'`)
        const scope = await connectorRuntime(cli.host, connector).scope(localPrincipal(tenant), {
          requestId: randomUUID(),
          clientIp: null,
          channel: 'cli',
        })
        return { ...scope, close: () => cli.close() }
      } catch (err) {
        await cli.close()
        throw err
      }
    },
    runJob: (tenant, job, input, options = {}) =>
      withRunner(tenant, (runner) =>
        runner.run(
          { connector: connector.name, job, tenant, input, trigger: 'cli' },
          { onProgress: (done, total, message) => options.onProgress?.(done, total, message) },
        ),
      ),
    scheduleJob: (tenant, job, input, cron) =>
      withRunner(tenant, async (runner) => {
        const { findJob, parseJobInput } = await import('../jobs/execute.ts')
        const ref = `${connector.name}:${job}`
        const found = findJob([connector], connector.name, job)
        await runner.schedules.set({ job: ref, tenant, cron, input: parseJobInput(found.job, ref, input) })
      }),
  }
}
