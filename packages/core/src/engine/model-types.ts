import type { ColumnType, Dialect } from '../db/index.ts'
import type { Role } from '../principal.ts'
import type { TimeGrain } from './plan.ts'

/**
 * The semantic model of one tenant database: what can be asked. Inferred from the schema
 * (tables → datasets, FKs → joins, numeric non-key columns → measures, text/boolean → dimensions,
 * dates → time dimensions) and refined by an optional overrides file.
 */
export type Aggregation = 'sum' | 'avg' | 'min' | 'max' | 'count' | 'count_distinct'

export type FieldKind = 'key' | 'measure' | 'dimension' | 'time'

/** Unit of a measure, guessed from its name (`amount` → currency, `weightKg` → weight). */
export type MeasureUnit = 'currency' | 'percent' | 'weight' | 'duration' | 'distance'

export interface Field {
  /** Stable, identifier-safe name (the column name for inferred fields). */
  name: string
  dataset: string
  /** Physical column; absent for derived measures. */
  column?: string
  /**
   * The column's declared database type as introspected, lower-cased (`bigint(20)`, `varchar(16)`);
   * absent for derived measures and fields that did not come from introspection. `type` may differ
   * (overrides); this one says what the driver returns.
   */
  rawType?: string
  /** The column accepts NULL (false for NOT NULL and primary-key columns; absent = unknown, may be NULL). */
  nullable?: boolean
  /**
   * Derived measure, e.g. profit = sales - cost: an expression over other measures of the dataset.
   * `level: 'aggregate'` (the default) combines the aggregates (SUM(sales) - SUM(cost), SUM(nrx) / SUM(trx));
   * `level: 'row'` aggregates the row-level expression (SUM(quantity * unit_price)).
   */
  derived?: { op: '+' | '-' | '*' | '/'; left: string; right: string; level?: 'aggregate' | 'row' }
  kind: FieldKind
  type: ColumnType
  label: string
  synonyms: string[]
  /** What the column holds, from the database's column comment. */
  description?: string
  /** Unit of a measure (inferred from its name or set in overrides). */
  unit?: MeasureUnit
  /** Default aggregation for measures. */
  aggregation?: Aggregation
  hidden: boolean
  /** Roles that may see the field; undefined = everyone who may see the dataset. */
  roles?: Role[]
  /** Low-cardinality text column whose distinct values are indexed for filter recognition. */
  indexed?: boolean
  /** Values are unique per row (a unique label such as product_name). */
  unique?: boolean
  /** Foreign-key columns: the dataset and field they reference. */
  references?: { dataset: string; field: string }
  /** Time fields whose values are already period starts/ends (week_ending is weekly: grain week = the value). */
  grain?: TimeGrain
  /** Phrases users say for a stored value: { "face to face": "In-person", "competitor": false }. */
  valueSynonyms?: Record<string, string | number | boolean>
}

export interface Dataset {
  name: string
  table: string
  label: string
  /** Singular/plural names and synonyms users use ("prescribers", "doctors"). */
  synonyms: string[]
  primaryKey: string[]
  /** Columns that name an entity (product_name, rep_name, first_name + last_name). */
  labelColumns: string[]
  defaultTimeDimension?: string
  fields: Field[]
  hidden: boolean
  /** Plural label ("HCPs", "territories"), for restatements. */
  pluralLabel?: string
  /** Verbs that point at this dataset as the fact ("wrote", "prescribed" → prescriptions). */
  verbs?: string[]
  /**
   * Shared reference data (a product catalogue): principals a row rule binds may read it whole even
   * though no rule reaches it. Without it such a dataset is withheld from them (engine/visibility.ts),
   * because its rows cannot be scoped. A dataset a rule does reach is scoped either way.
   */
  unrestricted?: boolean
  /**
   * The field whose value is a row's market or competitive set (products.therapeutic_area): a
   * product's "market share" is its share of all rows whose market is the same.
   */
  market?: string
}

export interface Join {
  /** Not declared in the database: inferred from names, types and a sample of values (model/relationships.ts). */
  inferred?: true
  /** Child side: the table holding the foreign key. */
  from: { dataset: string; columns: string[] }
  /** Parent side: the referenced table. */
  to: { dataset: string; columns: string[] }
}

/** Structured row policy: rows of `dataset` whose `column` is in the principal's attribute values. */
export interface RowPolicyRule {
  /** Roles the rule applies to; omitted = every role except admin. */
  roles?: Role[]
  dataset: string
  column: string
  /**
   * `required` (default true): a principal the rule binds who lacks the attribute sees no rows
   * (fail closed). `required: false` binds only principals that carry the attribute — e.g. an
   * HQ analyst sees everything, a regional analyst with `territories` only their region.
   */
  in: { attribute: string; required?: boolean }
}

export interface SemanticModel {
  name: string
  dialect: Dialect
  datasets: Dataset[]
  joins: Join[]
  rowPolicies: RowPolicyRule[]
  /** `dataset.field` of the measure used when a ranking names none ("top 10 prescribers"). */
  defaultMeasure?: string
}
