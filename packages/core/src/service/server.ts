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
import type { Connector } from '../connectors/contract.ts'
import { loadConnectors } from '../connectors/loader.ts'
import { createHub } from '../hub/hub.ts'
import { openMetadataStore } from '../metadata/store.ts'
import { createRateLimiter } from '../rate-limit/index.ts'
import { createInvalidationBus, type InvalidationBus, openRedis } from '../redis/index.ts'
import { createTenantRegistry } from '../tenants/registry.ts'
import { createApp } from './app.ts'
import { type DemoKey, ensureDemo } from './bootstrap-demo.ts'
import { createLogger } from './logger.ts'
import { createMetrics } from './metrics.ts'
import { auditRoutes } from './routes/audit.ts'
import { keysRoutes } from './routes/keys.ts'
import { refreshRoutes } from './routes/refresh.ts'
import type { Services } from './services.ts'

export interface RunningHub {
  app: OpenAPIHono
  services: Services
  demoKeys: DemoKey[]
  /** Drain in-flight requests, then close pools and connectors. */
  close(): Promise<void>
}

export interface CreateHubAppOptions {
  logger?: Logger
  connectors?: Connector[]
  /** Skip loading connector packages (tests of the core). */
  noConnectors?: boolean
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
  // HUB_REDIS_URL: shared rate limits and cross-replica invalidation (docs/architecture.md, Scale)
  const redis = config.redisUrl ? await openRedis({ url: config.redisUrl, logger }) : undefined
  let bus: InvalidationBus | undefined
  let hubRef: ReturnType<typeof createHub> | undefined
  const tenants = createTenantRegistry({
    metadata,
    baseDir: config.home,
    logger,
    engine: { maxRows: config.limits.maxRows, timeoutMs: config.limits.queryTimeoutMs },
    async onInvalidate(id, origin) {
      hubRef?.invalidateCache(id)
      if (origin === 'local') await bus?.publish(id)
    },
  })
  const demoKeys = config.demo ? await ensureDemo({ home: config.home, metadata, tenants, logger }) : []
  const audit = createAuditLog(metadata, { home: config.home })
  // Signed checkpoints of every chain head make truncation of the tail detectable (hub audit verify).
  const stopCheckpoints = audit.startCheckpoints({
    intervalMs: config.auditCheckpointMs,
    onError: (err) => logger.error({ err }, 'audit checkpoint failed'),
  })
  const hub = createHub({ tenants, audit, metrics, cache: config.cache })
  hubRef = hub
  if (redis)
    bus = await createInvalidationBus({
      redis,
      logger,
      onInvalidate: (tenant) => tenants.invalidate(tenant, 'peer'),
    })
  const services: Services = { config, logger, metrics, metadata, tenants, hub }
  const connectors = options.noConnectors
    ? []
    : (options.connectors ?? (await loadConnectors(config.connectors)))
  const authenticator = createAuthenticator({ config, metadata, tenants })
  const limiter = createRateLimiter({ config, metadata, tenants, redis, logger, registry: metrics.registry })
  let draining = false
  const app = createApp({
    services,
    security: {
      authenticate: (o) => authenticate({ authenticator, audit, limiter, ...o }),
      rateLimit: limiter.middleware(),
      requireRole,
    },
    clientIp: clientIpMiddleware({ trustedProxies: config.trustedProxies }),
    protectedRoutes: [keysRoutes(services), auditRoutes(services), refreshRoutes(services)],
    connectors,
    isDraining: () => draining,
  })
  return {
    app,
    services,
    demoKeys,
    async close() {
      draining = true
      stopCheckpoints()
      await audit.checkpoint().catch((err: unknown) => logger.error({ err }, 'final audit checkpoint failed'))
      for (const c of connectors)
        await c.close?.().catch((err) => logger.warn({ err }, 'connector close failed'))
      await tenants.close()
      await limiter.close()
      await bus?.close()
      await redis?.quit().catch(() => redis.disconnect())
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
