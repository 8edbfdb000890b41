import { Redis } from 'ioredis'
import type { Logger } from 'pino'

export interface RedisOptions {
  url: string
  logger?: Logger
  /** Shown in Redis' CLIENT LIST. */
  name?: string
  /** How long start-up waits for the first connection before going on degraded (default 2 s). */
  connectWaitMs?: number
}

/**
 * One ioredis connection for the hub's shared state. Commands fail at once while Redis is down
 * (`enableOfflineQueue: false`, one retry) instead of queueing, so that a request never waits for a
 * reconnect: the rate limiter then falls back (see rate-limit/limiter.ts). ioredis keeps
 * reconnecting in the background. Errors are logged once per outage, never with the URL.
 */
export async function openRedis(options: RedisOptions): Promise<Redis> {
  const { logger } = options
  const client = new Redis(options.url, {
    connectionName: options.name ?? 'nl2q-hub',
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    retryStrategy: (times) => Math.min(times * 200, 2_000),
  })
  watch(client, logger)
  await waitReady(client, options.connectWaitMs ?? 2_000)
  return client
}

/** A second connection (pub/sub needs its own); same options, offline queue allowed for SUBSCRIBE. */
export function duplicateForSubscribe(client: Redis, logger?: Logger): Redis {
  const sub = client.duplicate({ enableOfflineQueue: true, connectionName: 'nl2q-hub-sub' })
  watch(sub, logger)
  return sub
}

function watch(client: Redis, logger?: Logger): void {
  let down = false
  client.on('error', (err: NodeJS.ErrnoException) => {
    if (down) return
    down = true
    logger?.error({ code: err.code ?? 'REDIS_ERROR' }, 'redis unreachable; shared state degraded')
  })
  client.on('ready', () => {
    if (down) logger?.info('redis reachable again')
    down = false
  })
}

function waitReady(client: Redis, ms: number): Promise<void> {
  if (client.status === 'ready') return Promise.resolve()
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer)
      client.off('ready', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    timer.unref()
    client.once('ready', done)
  })
}
