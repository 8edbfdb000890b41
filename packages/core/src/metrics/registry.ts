import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client'

/** One registry per hub instance (tests create several hubs in one process). */
export interface Metrics {
  registry: Registry
  httpRequests: Counter<'method' | 'route' | 'status'>
  httpDuration: Histogram<'method' | 'route' | 'status'>
  queryDuration: Histogram<'tenant' | 'kind' | 'outcome'>
  auditWriteDuration: Histogram<'outcome'>
  /** Plan reads by how they were answered: `database` (executed), `shared` (single-flight), `cache`. */
  queryReads: Counter<'tenant' | 'source'>
  /** Questions answered from the plan cache (`hit`) or parsed (`miss`). */
  planCacheLookups: Counter<'outcome'>
  poolUsed: Gauge<'tenant'>
  poolFree: Gauge<'tenant'>
}

export function createMetrics(options: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry()
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'nl2q_' })
  const seconds = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
  return {
    registry,
    httpRequests: new Counter({
      name: 'nl2q_http_requests_total',
      help: 'HTTP requests by route template and status',
      labelNames: ['method', 'route', 'status'],
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: 'nl2q_http_request_duration_seconds',
      help: 'HTTP request duration by route template',
      labelNames: ['method', 'route', 'status'],
      buckets: seconds,
      registers: [registry],
    }),
    queryDuration: new Histogram({
      name: 'nl2q_query_duration_seconds',
      help: 'Tenant query duration (ask, query, sql)',
      labelNames: ['tenant', 'kind', 'outcome'],
      buckets: seconds,
      registers: [registry],
    }),
    auditWriteDuration: new Histogram({
      name: 'nl2q_audit_write_duration_seconds',
      help: 'Time to append one audit event to the hash chain',
      labelNames: ['outcome'],
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1],
      registers: [registry],
    }),
    queryReads: new Counter({
      name: 'nl2q_query_reads_total',
      help: 'Plan reads by how they were answered: database (executed), shared (joined an identical running read), cache',
      labelNames: ['tenant', 'source'],
      registers: [registry],
    }),
    planCacheLookups: new Counter({
      name: 'nl2q_plan_cache_lookups_total',
      help: 'Questions answered from the plan cache (hit) or parsed (miss)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    poolUsed: new Gauge({
      name: 'nl2q_pool_connections_used',
      help: 'Tenant pool connections in use',
      labelNames: ['tenant'],
      registers: [registry],
    }),
    poolFree: new Gauge({
      name: 'nl2q_pool_connections_free',
      help: 'Tenant pool connections idle',
      labelNames: ['tenant'],
      registers: [registry],
    }),
  }
}

/**
 * A metric's child for one label set, looked up once and kept: prom-client hashes the label object
 * on every `inc`/`observe` otherwise. Values are joined with NUL, which no label value holds.
 */
export function bound<C>(metric: { labels(...values: string[]): C }): (...values: string[]) => C {
  const children = new Map<string, C>()
  return (...values) => {
    const key = values.join('\u0000')
    let child = children.get(key)
    if (!child) {
      child = metric.labels(...values)
      children.set(key, child)
    }
    return child
  }
}
