import { planHash, sha256Hex } from '../canonical/index.ts'
import { cancelled } from '../engine/execute-errors.ts'
import type { QueryPlan } from '../engine/plan.ts'
import { cacheKey, createResultCache } from '../engine/result-cache.ts'
import { createSingleFlight } from '../engine/single-flight.ts'
import { withheldError } from '../engine/visibility.ts'
import { HubError, isHubError } from '../errors.ts'
import type { Metrics } from '../metrics/registry.ts'
import { hasRole, type Principal } from '../principal.ts'
import type { TenantRegistry } from '../tenants/registry.ts'
import type {
  AskInput,
  AskResult,
  AuditEventInput,
  DatasetSummary,
  Hub,
  QueryResult,
  RequestContext,
  SqlInput,
} from './types.ts'

/** The audit trail as the hub needs it: append one event to a tenant's chain, or throw. */
export interface AuditSink {
  append(
    tenant: string,
    event: AuditEventInput & {
      subject: string | null
      credentialId: string | null
      requestId: string
      clientIp: string | null
      channel: string
    },
  ): Promise<unknown>
}

export interface HubOptions {
  tenants: TenantRegistry
  audit: AuditSink
  metrics?: Metrics
  /** Result cache; keys hold the tenant and every policy input. Omit (or ttlMs 0) to disable. */
  cache?: { ttlMs: number; maxEntries: number; maxRows?: number }
}

/** The facade plus operator controls that are not part of what connectors may call. */
export interface HubWithControls extends Hub {
  /** Drop cached results of one tenant (after a re-seed or a model change), or of all tenants. */
  invalidateCache(tenant?: string): void
}

export const sha256: (text: string) => string = sha256Hex

/** SQL is shown to analysts and admins only. */
function redactFor<T extends QueryResult>(principal: Principal, result: T): T {
  if (hasRole(principal, 'admin', 'analyst')) return result
  const { sql: _sql, ...rest } = result
  return rest as T
}

/**
 * The only door to tenant data. Every call resolves the principal's own tenant (never one named by
 * the caller), runs through the engine (plan → policy → compile → execute) and is audited; if the
 * audit record cannot be written the data is not returned.
 */
export function createHub(options: HubOptions): HubWithControls {
  const { tenants, audit, metrics } = options
  const cache = createResultCache<QueryResult>(options.cache ?? { ttlMs: 0, maxEntries: 0 })
  const cacheMaxRows = options.cache?.maxRows ?? 1000
  const inFlight = createSingleFlight<QueryResult>()

  async function record(
    principal: Principal | null,
    tenant: string,
    event: AuditEventInput,
    ctx: RequestContext,
  ): Promise<void> {
    const started = performance.now()
    try {
      await audit.append(tenant, {
        ...event,
        subject: principal?.subject ?? null,
        credentialId: principal?.credential.id ?? null,
        requestId: ctx.requestId,
        clientIp: ctx.clientIp,
        channel: ctx.channel,
      })
      metrics?.auditWriteDuration.observe({ outcome: 'ok' }, (performance.now() - started) / 1000)
    } catch (cause) {
      metrics?.auditWriteDuration.observe({ outcome: 'error' }, (performance.now() - started) / 1000)
      throw new HubError(
        'AUDIT_UNAVAILABLE',
        'The audit trail is unavailable; no data is served without it',
        {
          cause,
        },
      )
    }
  }

  /** The audit outcome of a failed read: a deadline is `timeout`, a client mistake `denied`. */
  function outcomeOf(err: HubError | null): AuditEventInput['outcome'] {
    if (err?.code === 'QUERY_TIMEOUT' || err?.code === 'TIMEOUT') return 'timeout'
    return err && err.status < 500 ? 'denied' : 'error'
  }

  /** What the audit says beyond the hashes: a cache hit, and which LLM planned the question. */
  function auditDetail(result: { cached?: boolean; planner?: string; plannerModel?: string }) {
    const detail = {
      ...(result.cached ? { cached: true } : {}),
      ...(result.planner ? { planner: result.planner, plannerModel: result.plannerModel } : {}),
    }
    return Object.keys(detail).length ? detail : null
  }

  /** Run a read, time it, audit success or failure, and only then hand the rows back. */
  async function audited<T extends QueryResult>(
    principal: Principal,
    ctx: RequestContext,
    action: string,
    hashes: Pick<AuditEventInput, 'questionHash' | 'resource'>,
    run: () => Promise<T & { planHash?: string; sqlHash?: string; cached?: boolean }>,
  ): Promise<T> {
    const started = performance.now()
    let result: T & { planHash?: string; sqlHash?: string; cached?: boolean }
    try {
      result = await run()
      // The request already ended (its deadline answered 504, or the client left) while the read
      // finished: nobody receives these rows, and the record must say so, not `success`.
      if (ctx.signal?.aborted) throw cancelled(ctx.signal.reason)
    } catch (err) {
      const e = isHubError(err) ? err : null
      const outcome = outcomeOf(e)
      metrics?.queryDuration.observe(
        { tenant: principal.tenant, kind: action, outcome },
        (performance.now() - started) / 1000,
      )
      await record(
        principal,
        principal.tenant,
        {
          action,
          ...hashes,
          outcome,
          durationMs: Math.round(performance.now() - started),
          detail: {
            code: e?.code ?? 'INTERNAL',
            ...(e?.details?.planner ? { planner: e.details.planner } : {}),
          },
        },
        ctx,
      )
      throw err
    }
    const durationMs = Math.round(performance.now() - started)
    metrics?.queryDuration.observe(
      { tenant: principal.tenant, kind: action, outcome: 'success' },
      durationMs / 1000,
    )
    await record(
      principal,
      principal.tenant,
      {
        action,
        ...hashes,
        outcome: 'success',
        rowCount: result.rowCount,
        durationMs,
        planHash: result.planHash ?? null,
        sqlHash: result.sqlHash ?? (result.sql ? sha256(result.sql) : null),
        detail: auditDetail(result),
      },
      ctx,
    )
    const { planHash: _p, sqlHash: _s, cached: _c, ...clean } = result
    return redactFor(principal, clean as unknown as T)
  }

  const runtime = (principal: Principal) => tenants.runtime(principal.tenant)

  /**
   * Run a plan through the cache: an entry is shared only by principals with equal policy inputs.
   * Identical plans that arrive while one runs share that execution (single-flight, same key as the
   * cache plus asOf); every caller is still audited on its own.
   */
  async function cachedQuery(
    principal: Principal,
    plan: QueryPlan,
    ctx: RequestContext,
    limit?: number,
    asOf?: string,
  ) {
    const extra = limit === undefined ? '' : String(limit)
    const hit = cache.get(principal, plan, extra)
    if (hit) {
      metrics?.queryReads.inc({ tenant: principal.tenant, source: 'cache' })
      return { ...hit, durationMs: 0, cached: true }
    }
    const key = `${cacheKey(principal, plan, extra)}\u0000${asOf ?? ''}`
    const { value, joined } = await inFlight.run(key, ctx.signal, async (signal) => {
      const rt = await runtime(principal)
      const result = await rt.engine.query(principal, plan, { signal }, limit)
      // Large results (pages of a bulk read) are not worth their memory: only small answers are kept.
      if (result.rowCount <= cacheMaxRows) cache.set(principal, plan, result, extra)
      return result
    })
    metrics?.queryReads.inc({ tenant: principal.tenant, source: joined ? 'shared' : 'database' })
    return value
  }

  const hub: HubWithControls = {
    ask(principal, input: AskInput, ctx) {
      return audited<AskResult>(
        principal,
        ctx,
        'data.ask',
        { questionHash: sha256(input.question) },
        async () => {
          const rt = await runtime(principal)
          const planned = await rt.engine.planAny(input.question, { asOf: input.asOf, principal })
          const [result, warnings] = await Promise.all([
            cachedQuery(principal, planned.plan, ctx, input.limit, input.asOf),
            rt.engine.warnings(planned.plan),
          ])
          return {
            ...result,
            question: input.question,
            interpretation: planned.interpretation,
            plan: planned.plan,
            warnings,
            ...('planner' in planned
              ? { planner: planned.planner.name, plannerModel: planned.planner.model }
              : {}),
            planHash: planHash(planned.plan),
          }
        },
      )
    },
    query(principal, plan: QueryPlan, ctx) {
      return audited(principal, ctx, 'data.query', { resource: plan.dataset }, async () => {
        const result = await cachedQuery(principal, plan, ctx)
        return { ...result, planHash: planHash(plan) }
      })
    },
    sql(principal, input: SqlInput, ctx) {
      return audited(principal, ctx, 'data.sql', { questionHash: sha256(input.sql) }, async () => {
        if (!hasRole(principal, 'admin', 'analyst')) {
          throw new HubError(
            'FORBIDDEN',
            'Running SQL needs the analyst or admin role; ask a question instead',
          )
        }
        const rt = await runtime(principal)
        return rt.engine.sql(principal, input, { signal: ctx.signal })
      })
    },
    async *stream(principal, plan, ctx, pageSize = 5000) {
      const rt = await runtime(principal)
      for await (const page of rt.engine.stream(principal, plan, { signal: ctx.signal, pageSize })) {
        yield await audited(principal, ctx, 'data.stream', { resource: plan.dataset }, async () => page)
      }
    },
    async datasets(principal): Promise<DatasetSummary[]> {
      const rt = await runtime(principal)
      return rt.engine.summarize(principal)
    },
    async dataset(principal, name) {
      const all = await hub.datasets(principal)
      const found = all.find((d) => d.name === name)
      if (!found) {
        const w = (await runtime(principal)).engine.withheld(principal).find((d) => d.dataset === name)
        if (w) throw withheldError(w)
        throw new HubError('NOT_FOUND', `No dataset '${name}'`)
      }
      return found
    },
    audit: (principal, event, ctx) => record(principal, principal.tenant, event, ctx),
    invalidateCache: (tenant) => cache.invalidate(tenant),
  }
  return hub
}
