// The zod of @hono/zod-openapi (zod 4 with `.openapi()`), so the API reference can name the recursive filter.
import { z } from '@hono/zod-openapi'

/**
 * The one typed description of a read. The NL parser, OData options and (later) an LLM provider all
 * produce a QueryPlan; the policy step adds row scope and the compiler turns it into parameterised SQL.
 * A plan carries no tenant: the compiler runs it against the principal's tenant only.
 *
 * Field references are `dataset.field` (e.g. `prescriptions.trx`, `products.product_name`).
 */
export const FieldRefSchema = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*$/)

export const AggregationSchema = z.enum(['sum', 'avg', 'min', 'max', 'count', 'count_distinct'])
export const TimeGrainSchema = z.enum(['day', 'week', 'month', 'quarter', 'year'])
export type TimeGrain = z.infer<typeof TimeGrainSchema>

export const MeasureSchema = z.object({
  /** `dataset.field`, or `dataset.*` with aggregation `count` for "how many rows". */
  field: z.string(),
  aggregation: AggregationSchema,
  /** Output column name. */
  as: z.string(),
})
export type PlanMeasure = z.infer<typeof MeasureSchema>

export const DimensionSchema = z.object({
  field: FieldRefSchema,
  grain: TimeGrainSchema.optional(),
  as: z.string(),
})
export type PlanDimension = z.infer<typeof DimensionSchema>

const ScalarSchema = z.union([z.string(), z.number(), z.boolean(), z.null()])
export type Scalar = z.infer<typeof ScalarSchema>

export const ComparisonOpSchema = z.enum([
  'eq',
  'ne',
  'gt',
  'gte',
  'lt',
  'lte',
  'in',
  'not_in',
  'between',
  'contains',
  'startswith',
  'endswith',
  'is_null',
  'not_null',
])
export type ComparisonOp = z.infer<typeof ComparisonOpSchema>

export type PlanFilter =
  | { op: 'and' | 'or'; args: PlanFilter[] }
  | { op: 'not'; arg: PlanFilter }
  | { op: ComparisonOp; field: string; value?: Scalar; values?: Scalar[] }

export const FilterSchema: z.ZodType<PlanFilter> = z
  .lazy(() =>
    z.union([
      z.object({ op: z.enum(['and', 'or']), args: z.array(FilterSchema) }),
      z.object({ op: z.literal('not'), arg: FilterSchema }),
      z.object({
        op: ComparisonOpSchema,
        /** A field reference, or (in `having`) a measure's output name. */
        field: z.string(),
        value: ScalarSchema.optional(),
        values: z.array(ScalarSchema).optional(),
      }),
    ]),
  )
  .openapi('PlanFilter')

export const OrderSchema = z.object({ by: z.string(), direction: z.enum(['asc', 'desc']) })
export type PlanOrder = z.infer<typeof OrderSchema>

/**
 * Two-level aggregation: the measures are first computed per `over` (and per the plan's own
 * dimensions), then `aggregation` of those per-group values is returned per the plan's dimensions.
 * "Average TRx per HCP" = AVG over HCPs of each HCP's total TRx; "average weekly NRx" = AVG of
 * the weekly totals. Filters apply to the rows; having, order and limit to the outer result.
 */
export const RollupSchema = z
  .object({
    over: z.array(DimensionSchema).min(1),
    aggregation: z.enum(['avg', 'min', 'max', 'sum']),
  })
  .strict()
export type PlanRollup = z.infer<typeof RollupSchema>

/**
 * Per-group top/bottom N: rows are numbered within each `partitionBy` group (dimension output
 * names) by the measure `by`, and the first `limit` of each group are kept ("top 3 prescribers per
 * territory"). `order` and `limit` of the plan then apply to the kept rows.
 */
export const RankWithinSchema = z
  .object({
    partitionBy: z.array(z.string()).min(1),
    by: z.string(),
    direction: z.enum(['asc', 'desc']),
    limit: z.number().int().positive(),
  })
  .strict()
export type PlanRankWithin = z.infer<typeof RankWithinSchema>

/**
 * Period-over-period change. Two forms:
 * - two periods ("Q4 2024 vs Q3 2024", `periods` set, `lastOnly`): one row per group of the other
 *   dimensions, with the `time` column set to `periods[1]`, each measure's value in `periods[1]`,
 *   `<measure>_previous`, `<measure>_change` (current − previous) and `<measure>_pct_change` (that
 *   change / the previous value × 100). `periods` are the two buckets' first days ('YYYY-MM-DD',
 *   [previous, current]); each side is a conditional aggregate over them, so a group missing one
 *   side counts it as 0 (sums and counts) — never compared with some other period.
 * - a series ("quarter over quarter", "monthly change"; no `periods`, not `lastOnly`): every period
 *   from the first to the last one with rows, for every group — a dense calendar, so a group with
 *   no rows in a period gets 0 there (sums and counts) and the previous period is the true previous
 *   calendar period, never merely the previous row. `step` periods back is the comparison ("YoY by
 *   quarter" = 4); the first `step` periods have no previous period, so their change is null.
 */
export const ChangeSchema = z
  .object({
    time: z.string(),
    lastOnly: z.boolean(),
    periods: z.tuple([z.string(), z.string()]).optional(),
    step: z.number().int().positive().max(12).optional(),
  })
  .strict()
export type PlanChange = z.infer<typeof ChangeSchema>

/**
 * Shares: with `numerator`, each measure becomes (measure over rows matching it) / (measure over all
 * rows the filter keeps) — "Synthroid share of hypothyroidism NRx"; without, each group's measure /
 * the total over all groups — "share of TRx by product". Returned as a fraction (0.47).
 */
export const ShareSchema = z
  .object({
    numerator: FilterSchema.optional(),
    /**
     * Market share: `field` is the market column (`products.therapeutic_area`). With `numerator`
     * (fields of the market's dataset only), the denominator keeps only rows whose market is one of
     * the numerator's markets; without, each group's share of its own market (the plan groups by
     * `field` as dimension `as`), within the same values of the other non-market dimensions.
     */
    market: z.object({ field: FieldRefSchema, as: z.string().optional() }).strict().optional(),
  })
  .strict()
export type PlanShare = z.infer<typeof ShareSchema>

/**
 * Semi-/anti-join: keep rows whose `link.outer` value has (`negate`: has no) row in `dataset` with
 * `link.field` equal to it and matching `filter` (fields of `dataset` only) — "HCPs who wrote
 * Synthroid but had no completed calls". The subquery gets the dataset's row scope too.
 */
export const ExistsSchema = z
  .object({
    dataset: z.string(),
    negate: z.boolean(),
    link: z.object({ field: FieldRefSchema, outer: FieldRefSchema }).strict(),
    filter: FilterSchema.nullable().default(null),
    /**
     * Instead of (NOT) EXISTS: the number of such rows compared with `value` — "HCPs with at least 3
     * calls" is `(SELECT COUNT(*) …) >= 3` (so "fewer than 3" keeps those with none).
     */
    count: z
      .object({ op: z.enum(['eq', 'ne', 'gt', 'gte', 'lt', 'lte']), value: z.number() })
      .strict()
      .optional(),
  })
  .strict()
export type PlanExists = z.infer<typeof ExistsSchema>

const JoinSideSchema = z.object({ dataset: z.string(), columns: z.array(z.string()) }).strict()
/**
 * A one-to-many join to a dimension the root does not reach by foreign keys ("NRx by rep":
 * territories ← reps): join `to.dataset` on `to.columns = from.columns`. Rows repeat once per joined
 * row, so the joined dataset's key must be a dimension of the plan (each group counts a row once).
 */
export const BridgeSchema = z.object({ from: JoinSideSchema, to: JoinSideSchema }).strict()
export type PlanBridge = z.infer<typeof BridgeSchema>

export const QueryPlanSchema = z
  .object({
    /** The dataset the facts come from (the FROM table). */
    dataset: z.string(),
    measures: z.array(MeasureSchema).default([]),
    dimensions: z.array(DimensionSchema).default([]),
    /** Plain row listing (no aggregation): the fields to return. */
    select: z.array(z.object({ field: FieldRefSchema, as: z.string() })).default([]),
    filter: FilterSchema.nullable().default(null),
    /** Filters on aggregated measures (by output name). */
    having: FilterSchema.nullable().default(null),
    order: z.array(OrderSchema).default([]),
    limit: z.number().int().positive().nullable().default(null),
    offset: z.number().int().nonnegative().default(0),
    distinct: z.boolean().default(false),
    rollup: RollupSchema.optional(),
    rankWithin: RankWithinSchema.optional(),
    change: ChangeSchema.optional(),
    share: ShareSchema.optional(),
    exists: z.array(ExistsSchema).optional(),
    bridges: z.array(BridgeSchema).optional(),
  })
  .strict()
export type QueryPlan = z.infer<typeof QueryPlanSchema>
