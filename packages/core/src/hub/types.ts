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

export type ResultColumnType = 'string' | 'integer' | 'decimal' | 'boolean' | 'date' | 'datetime'

export interface ResultColumn {
  name: string
  type: ResultColumnType
  label: string
}

export type Row = unknown[]

export interface QueryResult {
  columns: ResultColumn[]
  rows: Row[]
  rowCount: number
  truncated: boolean
  durationMs: number
  /** SQL as run, for analyst and admin roles only. */
  sql?: string
}

export interface AskInput {
  question: string
  asOf?: string
  limit?: number
}

export interface AskResult extends QueryResult {
  question: string
  interpretation: string
  plan: QueryPlan
}

export interface SqlInput {
  sql: string
  limit?: number
}

export interface DatasetSummary {
  name: string
  /** Key fields: unique per row (what OData uses as the entity key). */
  primaryKey: string[]
  label: string
  description: string
  synonyms: string[]
  /** `derived`: computed from other measures (e.g. a ratio), not a column. */
  measures: {
    name: string
    label: string
    type: string
    aggregation: string
    synonyms: string[]
    derived: boolean
    /** May hold NULL (false only for a NOT NULL column). */
    nullable: boolean
  }[]
  dimensions: {
    name: string
    label: string
    type: string
    kind: 'key' | 'dimension' | 'time'
    synonyms: string[]
    /** May hold NULL (false only for a NOT NULL column, e.g. a required foreign key). */
    nullable: boolean
  }[]
  examples: string[]
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

export type { PlanFilter, QueryPlan }
