import { type ServerType, serve } from '@hono/node-server'
import type { OpenAPIHono } from '@hono/zod-openapi'
import type { Logger } from 'pino'
import {
  authenticate,
  clientIpMiddleware,
  createAuditLog,
  createAuthenticator,
  requireRole,
} from '../auth/index.ts'
import type { HubConfig } from '../config/index.ts'
import { type ConnectorHost, connectorRuntime, hubInfo } from '../connectors/context.ts'
import type { Connector, SecurityMiddleware } from '../connectors/contract.ts'
import { loadConnectors } from '../connectors/loader.ts'
import { createHub } from '../hub/hub.ts'
import { createJobRunner, type JobRunner } from '../jobs/index.ts'
import { openMetadataStore } from '../metadata/store.ts'
import { createMetrics } from '../metrics/registry.ts'
import { createRateLimiter } from '../rate-limit/index.ts'
import { resealStoredSecrets, secretBoxFor } from '../secrets/index.ts'
import { createTenantRegistry } from '../tenants/registry.ts'
import { createApp } from './app.ts'
import { type DemoKey, ensureDemo } from './bootstrap-demo.ts'
import { createLogger } from './logger.ts'
import { auditRoutes } from './routes/audit.ts'
import { keysRoutes } from './routes/keys.ts'
import { refreshRoutes } from './routes/refresh.ts'
import type { Services } from './services.ts'

export interface RunningHub {
  app: OpenAPIHono
  services: Services
  demoKeys: DemoKey[]
  /** The connectors' jobs: run now, schedules, history. */
  jobs: JobRunner
  /** Drain in-flight requests, then close pools and connectors. */
  close(): Promise<void>
}

export interface CreateHubAppOptions {
  logger?: Logger
  connectors?: Connector[]
  /** Skip loading connector packages (tests of the core). */
  noConnectors?: boolean
  /** Where connectors read `HUB_<NAME>_*` (default `process.env`; tests pass their own). */
  env?: NodeJS.ProcessEnv
}

/** Build everything a running hub needs, without listening: used by `hub start` and by tests. */
export async function createHubApp(
  config: HubConfig,
  options: CreateHubAppOptions = {},
): Promise<RunningHub> {
  const logger = options.logger ?? createLogger(config.logLevel)
  const metrics = createMetrics()
  const metadata = openMetadataStore(config.databaseUrl, config.home)
  await metadata.migrate()
  const secrets = secretBoxFor(config)
  // Rows written before secrets were encrypted at rest are sealed now (idempotent, row by row).
  const sealed = await resealStoredSecrets(metadata.knex, secrets, { plaintextOnly: true })
  if (sealed.resealed) logger.info({ count: sealed.resealed }, 'stored secrets encrypted')
  const tenants = createTenantRegistry({
    metadata,
    secrets,
    baseDir: config.home,
    logger,
    engine: { maxRows: config.limits.maxRows, timeoutMs: config.limits.queryTimeoutMs },
  })
  const demoKeys = config.demo ? await ensureDemo({ home: config.home, metadata, tenants, logger }) : []
  const audit = createAuditLog(metadata, { home: config.home })
  // Signed checkpoints of every chain head make truncation of the tail detectable (hub audit verify).
  const stopCheckpoints = audit.startCheckpoints({
    intervalMs: config.auditCheckpointMs,
    everyEvents: config.auditCheckpointEvents,
    onError: (err) => logger.error({ err }, 'audit checkpoint failed'),
  })
  const hub = createHub({ tenants, audit, metrics, cache: config.cache })
  const services: Services = { config, logger, metrics, metadata, tenants, hub }
  const connectors = options.noConnectors
    ? []
    : (options.connectors ?? (await loadConnectors(config.connectors)))
  const host: ConnectorHost = {
    hub,
    knex: metadata.knex,
    secrets,
    registry: metrics.registry,
    logger,
    info: hubInfo(config),
    env: options.env ?? process.env,
  }
  const runtimes = connectors.map((connector) => connectorRuntime(host, connector))
  // Awaited before the hub listens: a connector's migrations are done before its first request.
  for (const [i, connector] of connectors.entries()) {
    const rt = runtimes[i]
    if (connector.setup && rt) await connector.setup(rt.setupContext())
  }
  const jobs = createJobRunner({ host, knex: metadata.knex, connectors, redisUrl: config.redisUrl })
  if (connectors.some((c) => c.jobs && Object.keys(c.jobs).length > 0)) await jobs.startSchedules()
  const authenticator = createAuthenticator({ config, metadata, tenants })
  const limiter = createRateLimiter({ config, metadata, tenants })
  let draining = false
  const security: SecurityMiddleware = {
    authenticate: (o) => authenticate({ authenticator, audit, limiter, ...o }),
    rateLimit: limiter.middleware(),
    requireRole,
  }
  const app = createApp({
    services,
    security,
    clientIp: clientIpMiddleware({ trustedProxies: config.trustedProxies }),
    protectedRoutes: [keysRoutes(services), auditRoutes(services), refreshRoutes(services)],
    connectors,
    connectorContext: (connector) => {
      const rt = runtimes[connectors.indexOf(connector)]
      if (!rt) throw new Error(`connector ${connector.name} has no runtime`)
      return rt.routeContext(security)
    },
    isDraining: () => draining,
  })
  return {
    app,
    services,
    demoKeys,
    jobs,
    async close() {
      draining = true
      stopCheckpoints()
      await jobs.close().catch((err: unknown) => logger.warn({ err }, 'job runner close failed'))
      await audit.checkpoint().catch((err: unknown) => logger.error({ err }, 'final audit checkpoint failed'))
      for (const c of connectors)
        await c.close?.().catch((err) => logger.warn({ err }, 'connector close failed'))
      await tenants.close()
      await limiter.close()
      await metadata.close()
    },
  }
}

/** `hub start`: listen, print the demo keys, and shut down gracefully on SIGTERM/SIGINT. */
export async function startHub(
  config: HubConfig,
): Promise<{ server: ServerType; url: string; hub: RunningHub }> {
  const started = performance.now()
  const hub = await createHubApp(config)
  const { logger } = hub.services
  const server = await new Promise<ServerType>((resolve) => {
    const s = serve({ fetch: hub.app.fetch, port: config.port, hostname: config.host }, () => resolve(s))
  })
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : config.port
  const url = `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${port}`
  logger.info({ url, ms: Math.round(performance.now() - started) }, 'hub listening')

  let stopping = false
  const shutdown = async (signal: string) => {
    if (stopping) return
    stopping = true
    logger.info({ signal }, 'draining in-flight requests')
    const force = setTimeout(() => {
      logger.warn('shutdown grace period over; closing remaining connections')
      if ('closeAllConnections' in server) server.closeAllConnections()
    }, config.limits.shutdownGraceMs)
    force.unref()
    await new Promise<void>((resolve) => {
      server.close(() => resolve())
      if ('closeIdleConnections' in server) server.closeIdleConnections()
    })
    clearTimeout(force)
    await hub.close()
    logger.info('stopped')
    logger.flush()
  }
  process.once('SIGTERM', () => void shutdown('SIGTERM'))
  process.once('SIGINT', () => void shutdown('SIGINT'))
  return { server, url, hub }
}
