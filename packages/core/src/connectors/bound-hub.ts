import type { AuditEventInput } from '../audit/event-input.ts'
import type { ReadOptions } from '../engine/engine.ts'
import type { QueryPlan } from '../engine/plan.ts'
import type { AskInput, AskResult, DatasetSummary, QueryResult, SqlInput } from '../engine/results.ts'
import type { Hub } from '../hub/types.ts'
import type { Principal } from '../principal.ts'
import type { RequestContext } from '../request-context.ts'

/** Per-call options; `signal` replaces the request's own abort signal (`null`: none, e.g. a read-ahead). */
export interface CallOptions {
  signal?: AbortSignal | null
}

/**
 * The audited data API bound to one principal and one request (or job run): what a connector gets.
 * There is no principal or tenant parameter: a connector can only read as the caller it serves.
 */
export interface BoundHub {
  /** Who the calls run as (read-only): a connector may branch on roles, never change them. */
  readonly principal: Readonly<Principal>
  readonly requestId: string
  ask(input: AskInput, options?: CallOptions): Promise<AskResult>
  query(plan: QueryPlan, options?: CallOptions & ReadOptions): Promise<QueryResult>
  sql(input: SqlInput, options?: CallOptions): Promise<QueryResult>
  stream(plan: QueryPlan, options?: CallOptions & { pageSize?: number }): AsyncIterable<QueryResult>
  datasets(): Promise<DatasetSummary[]>
  dataset(name: string): Promise<DatasetSummary>
  /** Re-read the tenant's schema (after a connector loaded a table): admin or integration only. */
  refresh(options?: CallOptions): Promise<void>
}

/** Appends events to the bound tenant's audit chain only (who and where are filled in). */
export interface TenantAudit {
  append(event: AuditEventInput, options?: CallOptions): Promise<void>
}

function withSignal(rc: RequestContext, options: CallOptions | undefined): RequestContext {
  if (options?.signal === undefined) return rc
  const { signal: _s, ...rest } = rc
  return options.signal === null ? rest : { ...rest, signal: options.signal }
}

/** Bind the hub to one principal and request: the door a connector (or the CLI) reads through. */
export function bindHub(hub: Hub, principal: Principal, rc: RequestContext): BoundHub {
  const frozen = Object.freeze(structuredClone(principal))
  return {
    principal: frozen,
    requestId: rc.requestId,
    ask: (input, o) => hub.ask(frozen, input, withSignal(rc, o)),
    query: (plan, o) => hub.query(frozen, plan, withSignal(rc, o), o?.json ? { json: o.json } : undefined),
    sql: (input, o) => hub.sql(frozen, input, withSignal(rc, o)),
    stream: (plan, o) => hub.stream(frozen, plan, withSignal(rc, o), o?.pageSize),
    datasets: () => hub.datasets(frozen),
    dataset: (name) => hub.dataset(frozen, name),
    refresh: (o) => hub.refresh(frozen, withSignal(rc, o)),
  }
}

/** The audit door of the same binding. */
export function bindAudit(hub: Hub, principal: Principal, rc: RequestContext): TenantAudit {
  const frozen = Object.freeze(structuredClone(principal))
  return { append: (event, o) => hub.audit(frozen, event, withSignal(rc, o)) }
}
