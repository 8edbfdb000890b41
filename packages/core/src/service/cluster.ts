import cluster, { type Worker } from 'node:cluster'
import type { Logger } from 'pino'
import { RateLimiterClusterMaster } from 'rate-limiter-flexible'
import type { HubConfig } from '../config/index.ts'
import { HubError } from '../errors.ts'
import type { InvalidationBus } from '../redis/index.ts'
import type { DemoKey } from './bootstrap-demo.ts'

/** Messages between the primary of `hub start --workers N` and its workers (node:cluster IPC). */
const LISTENING = 'nl2q:listening'
const INVALIDATE = 'nl2q:invalidate'

type ClusterMessage = { type: typeof LISTENING; url: string } | { type: typeof INVALIDATE; tenant: string }

function isMessage(msg: unknown): msg is ClusterMessage {
  if (!msg || typeof msg !== 'object') return false
  const m = msg as Record<string, unknown>
  return (
    (m.type === LISTENING && typeof m.url === 'string') ||
    (m.type === INVALIDATE && typeof m.tenant === 'string')
  )
}

export const MAX_WORKERS = 64

/** `--workers` as given: a whole number from 1 to 64. */
export function parseWorkers(value: string | undefined): number {
  if (value === undefined) return 1
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1 || n > MAX_WORKERS)
    throw new HubError(
      'VALIDATION_FAILED',
      `--workers must be a whole number from 1 to ${MAX_WORKERS}, not '${value}'`,
    )
  return n
}

/** In a worker: tell the primary this worker listens (it prints the banner once all do). */
export function announceListening(url: string): void {
  process.send?.({ type: LISTENING, url } satisfies ClusterMessage)
}

/**
 * In a worker without Redis: cache invalidation through the primary, which relays a tenant's
 * change to every other worker (with HUB_REDIS_URL the Redis bus reaches workers and replicas alike).
 */
export function createClusterBus(options: {
  logger?: Logger
  onInvalidate: (tenant: string) => void | Promise<void>
}): InvalidationBus {
  const onMessage = (msg: unknown) => {
    if (!isMessage(msg) || msg.type !== INVALIDATE) return
    Promise.resolve(options.onInvalidate(msg.tenant)).catch((err: unknown) =>
      options.logger?.error({ err, tenant: msg.tenant }, 'invalidation from another worker failed'),
    )
  }
  process.on('message', onMessage)
  return {
    async publish(tenant) {
      process.send?.({ type: INVALIDATE, tenant } satisfies ClusterMessage)
    },
    async close() {
      process.off('message', onMessage)
    },
  }
}

/**
 * The primary of `hub start --workers N`: the one-time work (migrations, resealing secrets, the
 * demo, connector setup) runs here through `prepare` before any worker starts, so N processes never
 * race on it; then N workers (this same command, forked by node:cluster) share the port. The primary
 * holds the rate-limit budgets when there is no shared store (rate-limiter-flexible's cluster
 * master), relays cache invalidations between workers, replaces a worker that dies, and on SIGTERM
 * or SIGINT drains them all.
 */
export async function startPrimary(options: {
  config: HubConfig
  workers: number
  logger: Logger
  prepare: () => Promise<DemoKey[]>
  onListening: (url: string, demoKeys: DemoKey[]) => void
}): Promise<void> {
  const { workers, logger } = options
  const demoKeys = await options.prepare()
  new RateLimiterClusterMaster()
  let stopping = false
  let listening = 0
  let announced = false
  const workerEnv = { HUB_DEMO: '0' }
  const failedEarly = new Promise<never>((_, reject) => {
    const fork = (): Worker => {
      const worker = cluster.fork(workerEnv)
      let up = false
      worker.on('message', (msg: unknown) => {
        if (!isMessage(msg)) return
        if (msg.type === LISTENING) {
          up = true
          if (announced) return
          if (++listening === workers) {
            announced = true
            options.onListening(msg.url, demoKeys)
          }
        } else {
          for (const other of Object.values(cluster.workers ?? {}))
            if (other && other !== worker && other.isConnected()) other.send(msg)
        }
      })
      worker.on('exit', (code, signal) => {
        if (stopping) return
        if (!up) {
          reject(
            new Error(`hub worker ${worker.id} exited before it listened (code ${code}, signal ${signal})`),
          )
          return
        }
        logger.error({ worker: worker.id, code, signal }, 'hub worker died; starting another')
        fork()
      })
      return worker
    }
    for (let i = 0; i < workers; i++) fork()
  })
  const stopAll = async (signal: string) => {
    if (stopping) return
    stopping = true
    logger.info({ signal }, 'stopping workers')
    const alive = Object.values(cluster.workers ?? {}).filter((w): w is Worker => !!w && !w.isDead())
    await Promise.all(
      alive.map(
        (w) =>
          new Promise<void>((resolve) => {
            w.once('exit', () => resolve())
            w.process.kill('SIGTERM')
          }),
      ),
    )
    logger.info('stopped')
    logger.flush()
  }
  process.once('SIGTERM', () => void stopAll('SIGTERM'))
  process.once('SIGINT', () => void stopAll('SIGINT'))
  failedEarly.catch(async (err: unknown) => {
    logger.error({ err }, 'hub did not start')
    await stopAll('startup-failure')
    process.exitCode = 1
  })
}
