import type { QueryPlan } from './plan.ts'

/** What the engine returns for a read; the hub facade passes these on (SQL redacted by role). */
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
  /** E.g. the asked period lies wholly or partly outside the data's date range. */
  warnings: string[]
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
