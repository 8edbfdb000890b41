import { randomUUID } from 'node:crypto'
import type { Redis } from 'ioredis'
import type { Logger } from 'pino'
import { z } from 'zod'
import { duplicateForSubscribe } from './client.ts'

export const INVALIDATION_CHANNEL = 'nl2q:invalidate'

const MessageSchema = z.object({ tenant: z.string().min(1), origin: z.string().min(1) })

export interface InvalidationBus {
  /** Tell the other replicas that a tenant changed (refresh, model, settings). */
  publish(tenant: string): Promise<void>
  close(): Promise<void>
}

/**
 * Cross-replica invalidation over Redis pub/sub: every replica subscribes to one channel and drops
 * a tenant's cached results and runtime when another replica (or an operator CLI) publishes it.
 * A message sent while a replica is disconnected is lost: its entries then live out their TTL
 * (HUB_CACHE_TTL_MS), the bound on staleness.
 */
export async function createInvalidationBus(options: {
  redis: Redis
  logger?: Logger
  onInvalidate?: (tenant: string) => void | Promise<void>
}): Promise<InvalidationBus> {
  const { redis, logger } = options
  const origin = randomUUID()
  let sub: Redis | undefined
  if (options.onInvalidate) {
    const onInvalidate = options.onInvalidate
    sub = duplicateForSubscribe(redis, logger)
    sub.on('message', (channel: string, raw: string) => {
      if (channel !== INVALIDATION_CHANNEL) return
      let msg: z.infer<typeof MessageSchema>
      try {
        msg = MessageSchema.parse(JSON.parse(raw))
      } catch {
        logger?.warn('ignored a malformed invalidation message')
        return
      }
      if (msg.origin === origin) return
      Promise.resolve(onInvalidate(msg.tenant)).catch((err: unknown) =>
        logger?.error({ err, tenant: msg.tenant }, 'invalidation from another replica failed'),
      )
    })
    await sub.subscribe(INVALIDATION_CHANNEL).catch((err: unknown) => {
      // ioredis subscribes again once Redis is back
      logger?.error({ code: (err as { code?: string }).code }, 'redis subscribe failed; will retry')
    })
  }
  return {
    async publish(tenant) {
      try {
        await redis.publish(INVALIDATION_CHANNEL, JSON.stringify({ tenant, origin }))
      } catch (err) {
        logger?.error(
          { tenant, code: (err as { code?: string }).code },
          'could not tell other replicas to invalidate; their entries expire with the cache TTL',
        )
      }
    },
    async close() {
      await sub?.quit().catch(() => sub?.disconnect())
    },
  }
}
