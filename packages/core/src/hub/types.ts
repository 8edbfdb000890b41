import type { AuditEventInput } from '../audit/event-input.ts'
import type { ReadOptions } from '../engine/engine.ts'
import type { PlanFilter, QueryPlan } from '../engine/plan.ts'
import type {
  AskInput,
  AskResult,
  DatasetSummary,
  QueryResult,
  ResultColumn,
  ResultColumnType,
  Row,
  SqlInput,
} from '../engine/results.ts'
import type { Principal } from '../principal.ts'
import type { RequestContext } from '../request-context.ts'

/**
 * The data API of the core: the only door to a tenant's pool; every call is audited. Connectors never
 * hold it: they get a `BoundHub` (connectors/bound-hub.ts) fixed to one principal.
 */
export interface Hub {
  ask(principal: Principal, input: AskInput, ctx: RequestContext): Promise<AskResult>
  /** `read.json`: rows as JSON text when the source allows (see `ReadOptions`); audited alike. */
  query(principal: Principal, plan: QueryPlan, ctx: RequestContext, read?: ReadOptions): Promise<QueryResult>
  sql(principal: Principal, input: SqlInput, ctx: RequestContext): Promise<QueryResult>
  /**
   * Every row of a plan as one streamed read (a database cursor; ordered pages on SQLite), in
   * batches of `pageSize`, without holding the whole set in memory; audited once when it ends.
   */
  stream(
    principal: Principal,
    plan: QueryPlan,
    ctx: RequestContext,
    pageSize?: number,
  ): AsyncIterable<QueryResult>
  datasets(principal: Principal): Promise<DatasetSummary[]>
  dataset(principal: Principal, name: string): Promise<DatasetSummary>
  /**
   * Record an event in the principal's own tenant chain (throws AUDIT_UNAVAILABLE when it cannot).
   * There is no tenant parameter: an event can only land in the chain of the principal it names.
   */
  audit(principal: Principal, event: AuditEventInput, ctx: RequestContext): Promise<void>
  /**
   * Re-read the principal's tenant schema and drop its cached results (after a load into its
   * database): admins and integration principals only; audited `data.refresh`.
   */
  refresh(principal: Principal, ctx: RequestContext): Promise<void>
}

export type {
  AskInput,
  AskResult,
  AuditEventInput,
  DatasetSummary,
  PlanFilter,
  QueryPlan,
  QueryResult,
  RequestContext,
  ResultColumn,
  ResultColumnType,
  Row,
  SqlInput,
}
