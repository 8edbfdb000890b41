export { duplicateForSubscribe, openRedis, type RedisOptions } from './client.ts'
export { createInvalidationBus, INVALIDATION_CHANNEL, type InvalidationBus } from './invalidation.ts'
