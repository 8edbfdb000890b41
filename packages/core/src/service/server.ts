import type { ServerType } from '@hono/node-server'
import type { OpenAPIHono } from '@hono/zod-openapi'
import { Hono } from 'hono'
import type { Logger } from 'pino'
import { createRefusalFloods } from '../audit/index.ts'
import {
  authenticate,
  clientIpMiddleware,
  createAuditLog,
  createAuthenticator,
  requireRole,
} from '../auth/index.ts'
import type { HubConfig } from '../config/index.ts'
import { type ConnectorHost, claimsMapper, connectorRuntime, hubInfo } from '../connectors/context.ts'
import type { Connector, SecurityMiddleware } from '../connectors/contract.ts'
import { loadConnectors } from '../connectors/loader.ts'
import { useSqliteWorkers } from '../db/sqlite-worker/pool.ts'
import { createHub } from '../hub/hub.ts'
import { createJobRunner, type JobRunner } from '../jobs/index.ts'
import { openMetadataStore } from '../metadata/store.ts'
import { createMetrics } from '../metrics/registry.ts'
import { createRateLimiter } from '../rate-limit/index.ts'
import { createInvalidationBus, type InvalidationBus, openRedis } from '../redis/index.ts'
import { resealStoredSecrets, secretBoxFor } from '../secrets/index.ts'
import { createTenantRegistry } from '../tenants/registry.ts'
import { createApp } from './app.ts'
import { type DemoKey, ensureDemo } from './bootstrap-demo.ts'
import { createClusterBus } from './cluster.ts'
import { problemHandler } from './errors.ts'
import { type HttpServerLimits, listen } from './http-server.ts'
import { createLogger } from './logger.ts'
import { refusalAudit } from './middleware/refusal-audit.ts'
import { adminHealthRoutes } from './routes/admin-health.ts'
import { auditRoutes } from './routes/audit.ts'
import { keysRoutes } from './routes/keys.ts'
import { metricsRoutes } from './routes/metrics.ts'
import { refreshRoutes } from './routes/refresh.ts'
import type { Services } from './services.ts'

export interface RunningHub {
  app: OpenAPIHono
  /** `/metrics` alone, for HUB_METRICS_PORT (token-checked when HUB_METRICS_TOKEN is set). */
  metricsApp: Hono
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
  /**
   * A worker of `hub start --workers N` (service/cluster.ts): without Redis, rate limits live in the
   * primary and cache invalidations travel through it to the other workers.
   */
  clusterWorker?: boolean
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
  if (!config.secrets.key && metadata.dialect === 'mysql') {
    logger.warn(
      'HUB_SECRET_KEY is not set: secrets are sealed with HUB_HOME/secret.key; replicas must share it',
    )
  }
  // Rows written before secrets were encrypted at rest are sealed now (idempotent, row by row).
  const sealed = await resealStoredSecrets(metadata.knex, secrets, { plaintextOnly: true })
  if (sealed.resealed) logger.info({ count: sealed.resealed }, 'stored secrets encrypted')
  // HUB_REDIS_URL: shared rate limits and cross-replica invalidation (docs/architecture.md, Scale)
  const redis = config.redisUrl ? await openRedis({ url: config.redisUrl, logger }) : undefined
  let bus: InvalidationBus | undefined
  let hubRef: ReturnType<typeof createHub> | undefined
  const tenants = createTenantRegistry({
    metadata,
    secrets,
    baseDir: config.home,
    logger,
    engine: {
      maxRows: config.limits.maxRows,
      timeoutMs: config.limits.queryTimeoutMs,
      streamTimeoutMs: config.limits.streamTimeoutMs,
      concurrency: {
        maxConcurrent: config.limits.tenantMaxQueries,
        maxQueued: config.limits.tenantMaxQueued,
      },
    },
    async onInvalidate(id, origin) {
      hubRef?.invalidateCache(id)
      if (origin === 'local') await bus?.publish(id)
    },
  })
  const releaseSqliteWorkers = useSqliteWorkers({ maxWorkers: config.limits.sqliteWorkers })
  const demoKeys = config.demo ? await ensureDemo({ home: config.home, metadata, tenants, logger }) : []
  const audit = createAuditLog(metadata, { home: config.home })
  // Signed checkpoints of every chain head make truncation of the tail detectable (hub audit verify).
  const stopCheckpoints = audit.startCheckpoints({
    intervalMs: config.auditCheckpointMs,
    everyEvents: config.auditCheckpointEvents,
    onError: (err) => logger.error({ err }, 'audit checkpoint failed'),
  })
  const hub = createHub({ tenants, audit, metrics, cache: config.cache, planCache: config.planCache })
  hubRef = hub
  if (redis)
    bus = await createInvalidationBus({
      redis,
      logger,
      onInvalidate: (tenant) => tenants.invalidate(tenant, 'peer'),
    })
  else if (options.clusterWorker)
    bus = createClusterBus({ logger, onInvalidate: (tenant) => tenants.invalidate(tenant, 'peer') })
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
  const jobs = createJobRunner({
    host,
    knex: metadata.knex,
    connectors,
    redisUrl: config.redisUrl,
    dispatchTimeoutMs: config.jobDispatchTimeoutMs,
  })
  if (connectors.some((c) => c.jobs && Object.keys(c.jobs).length > 0)) await jobs.startSchedules()
  const mapClaims = claimsMapper(
    connectors.flatMap((connector, i) => {
      const runtime = runtimes[i]
      return runtime ? [{ connector, runtime }] : []
    }),
  )
  const authenticator = createAuthenticator({
    config,
    metadata,
    tenants,
    ...(mapClaims ? { mapClaims } : {}),
  })
  const limiter = createRateLimiter({
    config,
    metadata,
    tenants,
    redis,
    logger,
    registry: metrics.registry,
    clusterWorker: options.clusterWorker,
  })
  const floods = createRefusalFloods({
    write: (tenant, event) =>
      audit.append(tenant, event).then(
        () => undefined,
        (err: unknown) => logger.error({ err, tenant }, 'rate-limit refusals could not be audited'),
      ),
  })
  let draining = false
  const security: SecurityMiddleware = {
    // the caller's options first: they may not replace the authenticator, audit log or limiter
    authenticate: (o) => authenticate({ ...o, authenticator, audit, limiter, floods }),
    rateLimit: limiter.middleware(),
    requireRole,
  }
  const app = createApp({
    services,
    security,
    clientIp: clientIpMiddleware({ trustedProxies: config.trustedProxies }),
    protectedRoutes: [
      keysRoutes(services),
      auditRoutes(services),
      refreshRoutes(services),
      adminHealthRoutes(services),
    ],
    connectors,
    connectorContext: (connector) => {
      const rt = runtimes[connectors.indexOf(connector)]
      if (!rt) throw new Error(`connector ${connector.name} has no runtime`)
      return rt.routeContext(security)
    },
    isDraining: () => draining,
    refusalAudit: refusalAudit({
      audit,
      authenticator,
      floods,
      limiter,
      logger,
      rateLimitWindowSec: config.rateLimit.windowSec,
    }),
  })
  const metricsApp = new Hono()
  metricsApp.onError(problemHandler)
  metricsApp.route('/', metricsRoutes(services, config.metrics.token))
  return {
    app,
    metricsApp,
    services,
    demoKeys,
    jobs,
    async close() {
      draining = true
      stopCheckpoints()
      await floods.flush()
      await jobs.close().catch((err: unknown) => logger.warn({ err }, 'job runner close failed'))
      await audit.checkpoint().catch((err: unknown) => logger.error({ err }, 'final audit checkpoint failed'))
      for (const c of connectors)
        await c.close?.().catch((err) => logger.warn({ err }, 'connector close failed'))
      await tenants.close()
      await releaseSqliteWorkers()
      await limiter.close()
      await bus?.close()
      await redis?.quit().catch(() => redis.disconnect())
      await metadata.close()
    },
  }
}

function serverLimits(config: HubConfig): HttpServerLimits {
  return {
    headersTimeoutMs: config.limits.headersTimeoutMs,
    requestTimeoutMs: config.limits.requestTimeoutMs,
    keepAliveTimeoutMs: config.limits.keepAliveTimeoutMs,
    maxConnections: config.limits.maxConnections,
  }
}

/** `hub start`: listen, print the demo keys, and shut down gracefully on SIGTERM/SIGINT. */
export async function startHub(
  config: HubConfig,
  options: Pick<CreateHubAppOptions, 'clusterWorker' | 'logger'> = {},
): Promise<{
  server: ServerType
  url: string
  /** Where HUB_METRICS_PORT serves /metrics, when set. */
  metricsUrl: string | null
  /** The HUB_METRICS_PORT listener, when set. */
  metricsServer: ServerType | null
  hub: RunningHub
  /** What SIGTERM does: drain, close, stop listening. */
  stop(): Promise<void>
}> {
  const started = performance.now()
  const hub = await createHubApp(config, options)
  const { logger } = hub.services
  const { server, port } = await listen({
    fetch: hub.app.fetch,
    port: config.port,
    hostname: config.host,
    limits: serverLimits(config),
  })
  const url = `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${port}`
  logger.info({ url, ms: Math.round(performance.now() - started) }, 'hub listening')
  const metrics =
    config.metrics.port === undefined
      ? null
      : await listen({
          fetch: hub.metricsApp.fetch,
          port: config.metrics.port,
          // /metrics labels name tenants: without a token it must not face the network by default.
          hostname: config.metrics.host,
          limits: serverLimits(config),
        })
  const metricsServer = metrics?.server ?? null
  const metricsUrl = metrics
    ? `http://${config.metrics.host === '0.0.0.0' ? '127.0.0.1' : config.metrics.host}:${metrics.port}`
    : null
  if (metricsServer) logger.info({ url: metricsUrl }, 'metrics listening')
  else if (!config.metrics.token)
    logger.info('/metrics is off: set HUB_METRICS_TOKEN or HUB_METRICS_PORT to expose it')

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
    if (metricsServer) {
      await new Promise<void>((resolve) => {
        metricsServer.close(() => resolve())
        if ('closeAllConnections' in metricsServer) metricsServer.closeAllConnections()
      })
    }
    await hub.close()
    logger.info('stopped')
    logger.flush()
    // a worker's IPC channel to the primary would keep it alive after everything else closed
    if (options.clusterWorker) process.disconnect?.()
  }
  const onSigterm = () => void shutdown('SIGTERM')
  const onSigint = () => void shutdown('SIGINT')
  process.once('SIGTERM', onSigterm)
  process.once('SIGINT', onSigint)
  const stop = async () => {
    process.off('SIGTERM', onSigterm)
    process.off('SIGINT', onSigint)
    await shutdown('stop')
  }
  return { server, url, metricsUrl, metricsServer, hub, stop }
}
