import type {
  AskInput,
  AskResult,
  DatasetSummary,
  QueryResult,
  ResultColumn,
  ResultColumnType,
  Row,
  SqlInput,
} from '../api/schemas.ts'
import type { PlanFilter, QueryPlan } from '../engine/plan.ts'
import type { Principal } from '../principal.ts'

/** Per-request facts that travel with every call into the hub (for audit and cancellation). */
export interface RequestContext {
  requestId: string
  clientIp: string | null
  /** The connector or route asking (`api`, `mcp`, `odata`, `cli`, …), recorded in audit. */
  channel: string
  signal?: AbortSignal
}

export interface AuditEventInput {
  action: string
  resource?: string | null
  /**
   * `failure`: bad credential; `denied`: not allowed; `invalid`: a malformed or impossible request;
   * `timeout`: the query or the request ran past its deadline (504), whatever else it did.
   */
  outcome: 'success' | 'failure' | 'denied' | 'invalid' | 'error' | 'timeout'
  rowCount?: number | null
  durationMs?: number | null
  questionHash?: string | null
  planHash?: string | null
  sqlHash?: string | null
  detail?: Record<string, unknown> | null
}

/** What a connector may do with data. The only door to a tenant's pool; every call is audited. */
export interface Hub {
  ask(principal: Principal, input: AskInput, ctx: RequestContext): Promise<AskResult>
  query(principal: Principal, plan: QueryPlan, ctx: RequestContext): Promise<QueryResult>
  sql(principal: Principal, input: SqlInput, ctx: RequestContext): Promise<QueryResult>
  /** Large reads page by page (keyset) without holding the whole set in memory. */
  stream(
    principal: Principal,
    plan: QueryPlan,
    ctx: RequestContext,
    pageSize?: number,
  ): AsyncIterable<QueryResult>
  datasets(principal: Principal): Promise<DatasetSummary[]>
  dataset(principal: Principal, name: string): Promise<DatasetSummary>
  /** Record an event in the principal's tenant audit chain (throws AUDIT_UNAVAILABLE when it cannot). */
  audit(
    principal: Principal | null,
    tenant: string,
    event: AuditEventInput,
    ctx: RequestContext,
  ): Promise<void>
}

/** The data API's shapes are inferred from the schemas in `api/schemas.ts` (one source for HTTP, OpenAPI and MCP). */
export type {
  AskInput,
  AskResult,
  DatasetSummary,
  PlanFilter,
  QueryPlan,
  QueryResult,
  ResultColumn,
  ResultColumnType,
  Row,
  SqlInput,
}
