/** The Redis the suite runs against (CI starts it; see .ci/run). Tests fail, not skip, when it is down. */
export const TEST_REDIS_URL = process.env.NL2Q_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'

/** A loopback port where nothing listens (the discard port): a Redis that is down. */
export const UNREACHABLE_REDIS_URL = 'redis://127.0.0.1:9'
