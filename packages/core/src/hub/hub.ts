import { tenantReadLive } from '../auth/tenant-liveness.ts'
import { planHash, policyKey, sha256Hex } from '../canonical/index.ts'
import type { ReadOptions } from '../engine/engine.ts'
import { cancelled } from '../engine/execute-errors.ts'
import type { LlmPlanned } from '../engine/llm/fallback.ts'
import { today } from '../engine/nl/dates.ts'
import type { PlannedQuestion } from '../engine/nl/planner.ts'
import type { QueryPlan } from '../engine/plan.ts'
import { type CachedPlan, createPlanCache } from '../engine/plan-cache.ts'
import { createKeyedCache } from '../engine/result-cache.ts'
import { createSingleFlight } from '../engine/single-flight.ts'
import { withheldError } from '../engine/visibility.ts'
import { HubError, isHubError } from '../errors.ts'
import { bound, type Metrics } from '../metrics/registry.ts'
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
  /** Plan cache (parsed questions); omit or maxEntries 0 to parse every question. */
  planCache?: { maxEntries: number }
}

/** The facade plus operator controls that are not part of what connectors may call. */
export interface HubWithControls extends Hub {
  /** Drop cached results and plans of one tenant (after a re-seed or a model change), or of all tenants. */
  invalidateCache(tenant?: string): void
  /** Plan cache counters (tests, /metrics has them too). */
  planCacheStats(): { hits: number; misses: number; size: number }
}

export const sha256: (text: string) => string = sha256Hex

const CACHED_DETAIL: Readonly<Record<string, unknown>> = Object.freeze({ cached: true })

/** What a read hands `audited` besides its result: hashes for the record, and a prebuilt answer. */
interface AuditMeta<T> {
  planHash?: string
  sqlHash?: string | null
  cached?: boolean
  /** The exact object to return (already redacted, frozen and shared between requests). */
  final?: T
}

const sameStrings = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && a.every((x, i) => x === b[i])

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
  const cache = createKeyedCache<QueryResult>(options.cache ?? { ttlMs: 0, maxEntries: 0 })
  const cacheMaxRows = options.cache?.maxRows ?? 1000
  const inFlight = createSingleFlight<QueryResult>()
  const plans = createPlanCache({ maxEntries: options.planCache?.maxEntries ?? 0 })
  // Each engine (one per tenant runtime: rebuilt on refresh) gets a version number for the plan cache.
  const versions = new WeakMap<object, number>()
  let nextVersion = 1
  const versionOf = (engine: object): number => {
    let v = versions.get(engine)
    if (v === undefined) {
      v = nextVersion++
      versions.set(engine, v)
    }
    return v
  }
  // pre-bound label sets: prom-client hashes a label object on every call otherwise
  const queryDuration = metrics ? bound(metrics.queryDuration) : undefined
  const queryReads = metrics ? bound(metrics.queryReads) : undefined
  const auditOk = metrics?.auditWriteDuration.labels('ok')
  const auditError = metrics?.auditWriteDuration.labels('error')
  const planHit = metrics?.planCacheLookups.labels('hit')
  const planMiss = metrics?.planCacheLookups.labels('miss')

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
      auditOk?.observe((performance.now() - started) / 1000)
    } catch (cause) {
      auditError?.observe((performance.now() - started) / 1000)
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

  /** Which LLM planned the question, for the answer (nothing when the parser did). */
  function plannerOf(planned: PlannedQuestion | LlmPlanned): { planner?: 'cohere'; plannerModel?: string } {
    return 'planner' in planned ? { planner: planned.planner.name, plannerModel: planned.planner.model } : {}
  }

  /** What the audit says beyond the hashes: a cache hit, and which LLM planned the question. */
  function auditDetail(result: { cached?: boolean; planner?: string; plannerModel?: string }) {
    // the common case, shared (frozen): the audit log normalises it once (audit/record.ts)
    if (result.cached && !result.planner) return CACHED_DETAIL
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
    run: () => Promise<T & AuditMeta<T>>,
  ): Promise<T> {
    const started = performance.now()
    let result: T & AuditMeta<T>
    try {
      result = await run()
      // The request already ended (its deadline answered 504, or the client left) while the read
      // finished: nobody receives these rows, and the record must say so, not `success`.
      if (ctx.signal?.aborted) throw cancelled(ctx.signal.reason)
    } catch (err) {
      const e = isHubError(err) ? err : null
      const outcome = outcomeOf(e)
      queryDuration?.(principal.tenant, action, outcome).observe((performance.now() - started) / 1000)
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
    queryDuration?.(principal.tenant, action, 'success').observe(durationMs / 1000)
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
        sqlHash: result.sqlHash !== undefined ? result.sqlHash : result.sql ? sha256(result.sql) : null,
        detail: auditDetail(result),
      },
      ctx,
    )
    if (result.final) return result.final
    const { planHash: _p, sqlHash: _s, cached: _c, final: _f, ...clean } = result
    return redactFor(principal, clean as unknown as T)
  }

  // The authenticator read the tenant as live moments ago in the same request: not read again.
  const runtime = (principal: Principal) =>
    tenants.runtime(principal.tenant, { live: tenantReadLive(principal) })

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
    /** policyKey(principal) and planHash(plan) when the caller has them already. */
    keys: { policy: string; planHash: string } = { policy: policyKey(principal), planHash: planHash(plan) },
    read: ReadOptions = {},
  ): Promise<QueryResult & { cached?: boolean; entry?: QueryResult }> {
    // the row limit, and JSON rows (another shape of the same rows) apart from ordinary ones
    const extra = `${limit === undefined ? '' : String(limit)}${read.json ? `\u0000${JSON.stringify(read.json)}` : ''}`
    // the tenant, every policy input and the plan (both canonical hashes), and the row limit
    const cacheKey = `${principal.tenant}\u0000${keys.policy}\u0000${keys.planHash}\u0000${extra}`
    const hit = cache.get(cacheKey)
    if (hit) {
      queryReads?.(principal.tenant, 'cache').inc()
      return { ...hit, durationMs: 0, cached: true, entry: hit }
    }
    const key = `${cacheKey}\u0000${asOf ?? ''}`
    const { value, joined } = await inFlight.run(key, ctx.signal, async (signal) => {
      const rt = await runtime(principal)
      const result = await rt.engine.query(principal, plan, { signal }, limit, read)
      // Large results (pages of a bulk read) are not worth their memory: only small answers are kept.
      if (result.rowCount <= cacheMaxRows) cache.set(cacheKey, principal.tenant, result)
      return result
    })
    queryReads?.(principal.tenant, joined ? 'shared' : 'database').inc()
    return value
  }

  /** Answers built from one cached result, by question, asOf and whether SQL is shown. */
  const answers = new WeakMap<QueryResult, Map<string, { answer: AskResult; sqlHash: string | null }>>()

  function cachedAnswer(
    principal: Principal,
    result: QueryResult,
    input: AskInput,
    planned: PlannedQuestion | LlmPlanned,
    warnings: string[],
  ): { answer: AskResult; sqlHash: string | null } {
    const seesSql = hasRole(principal, 'admin', 'analyst')
    const key = `${seesSql ? 1 : 0}\u0000${input.asOf ?? ''}\u0000${input.question}`
    let byQuestion = answers.get(result)
    if (!byQuestion) {
      byQuestion = new Map()
      answers.set(result, byQuestion)
    }
    const found = byQuestion.get(key)
    if (found && sameStrings(found.answer.warnings, warnings)) return found
    const answer: AskResult = Object.freeze(
      redactFor(principal, {
        ...result,
        durationMs: 0,
        question: input.question,
        interpretation: planned.interpretation,
        plan: planned.plan,
        warnings,
        ...plannerOf(planned),
      }),
    )
    const built = { answer, sqlHash: result.sql ? sha256(result.sql) : null }
    // bounded: spellings of one question are few, but a client could vary them without end
    if (byQuestion.size >= 64) byQuestion.delete(byQuestion.keys().next().value as string)
    byQuestion.set(key, built)
    return built
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
          const policy = policyKey(principal)
          const asOf = input.asOf ?? today()
          let entry: CachedPlan
          let planned: PlannedQuestion | LlmPlanned
          try {
            const found = plans.getOrPlan(
              {
                tenant: principal.tenant,
                modelVersion: versionOf(rt.engine),
                question: input.question,
                asOfDay: asOf,
                policy,
              },
              () => {
                // counted before parsing: a refusal is a miss too
                planMiss?.inc()
                return rt.engine.plan(input.question, { asOf, principal })
              },
            )
            if (found.hit) planHit?.inc()
            entry = found.entry
            planned = entry.planned
          } catch (refusal) {
            // The parser refused. The optional LLM planner (engine.planAny; without COHERE_API_KEY
            // it refuses exactly as the parser did) may still plan it; it remembers its own plans,
            // so they are not kept here.
            if (!(refusal instanceof HubError)) throw refusal
            planned = await rt.engine.planAny(input.question, { asOf, principal })
            entry = { planned, planHash: planHash(planned.plan) }
          }
          const [result, warnings] = await Promise.all([
            cachedQuery(principal, planned.plan, ctx, input.limit, input.asOf, {
              policy,
              planHash: entry.planHash,
            }),
            rt.engine.warnings(planned.plan),
          ])
          if (result.entry) {
            // A cached result: the answer built from it last time is reused as it stands (frozen),
            // so neither it nor its JSON text (service/json-text.ts) is built again.
            const built = cachedAnswer(principal, result.entry, input, planned, warnings)
            return {
              ...built.answer,
              planHash: entry.planHash,
              sqlHash: built.sqlHash,
              cached: true,
              final: built.answer,
            }
          }
          const { entry: _e, ...fresh } = result
          return {
            ...fresh,
            ...result,
            question: input.question,
            interpretation: planned.interpretation,
            plan: planned.plan,
            warnings,
            ...plannerOf(planned),
            planHash: entry.planHash,
          }
        },
      )
    },
    query(principal, plan: QueryPlan, ctx, read?: ReadOptions) {
      return audited(principal, ctx, 'data.query', { resource: plan.dataset }, async () => {
        const { entry: _e, ...result } = await cachedQuery(
          principal,
          plan,
          ctx,
          undefined,
          undefined,
          undefined,
          read,
        )
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
    /**
     * One read of every row (engine `cursor`), audited once when it ends: `success` with the rows
     * handed out (`detail.stopped` when the reader left early), or the failure. The record is durable
     * before the last `next()` settles, so a reader that commits only after the stream ended (a
     * BOAST file renamed into place) never commits rows without their record.
     */
    async *stream(principal, plan, ctx, pageSize = 5000) {
      const rt = await runtime(principal)
      const started = performance.now()
      let rowCount = 0
      let ended = false
      let failure: HubError | null = null
      let sql: string | undefined
      try {
        for await (const batch of rt.engine.cursor(principal, plan, {
          signal: ctx.signal,
          batchRows: pageSize,
        })) {
          rowCount += batch.rowCount
          sql ??= batch.sql
          yield redactFor(principal, batch)
        }
        ended = true
      } catch (err) {
        failure = isHubError(err) ? err : new HubError('INTERNAL', 'The read failed', { cause: err })
        throw err
      } finally {
        const durationMs = Math.round(performance.now() - started)
        const outcome = failure ? outcomeOf(failure) : 'success'
        queryDuration?.(principal.tenant, 'data.stream', outcome).observe(durationMs / 1000)
        await record(
          principal,
          principal.tenant,
          {
            action: 'data.stream',
            resource: plan.dataset,
            outcome,
            rowCount,
            durationMs,
            planHash: planHash(plan),
            sqlHash: sql ? sha256(sql) : null,
            detail: failure ? { code: failure.code } : ended ? null : { stopped: 'by the reader' },
          },
          ctx,
        )
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
    async refresh(principal, ctx) {
      const started = performance.now()
      const denied = !hasRole(principal, 'admin', 'integration')
      if (!denied) {
        cache.invalidate(principal.tenant)
        plans.invalidate(principal.tenant)
        await tenants.invalidate(principal.tenant)
      }
      await record(
        principal,
        principal.tenant,
        {
          action: 'data.refresh',
          resource: 'tenant',
          outcome: denied ? 'denied' : 'success',
          durationMs: Math.round(performance.now() - started),
          ...(denied ? { detail: { code: 'FORBIDDEN' } } : {}),
        },
        ctx,
      )
      if (denied) throw new HubError('FORBIDDEN', 'Refreshing the model needs the admin or integration role')
    },
    invalidateCache: (tenant) => {
      cache.invalidate(tenant)
      plans.invalidate(tenant)
    },
    planCacheStats: () => plans.stats(),
  }
  return hub
}
