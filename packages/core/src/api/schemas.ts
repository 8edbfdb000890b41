import { z } from '@hono/zod-openapi'
import { QueryPlanSchema } from '../engine/plan.ts'

/**
 * The request and response shapes of the data API, written once. The HTTP routes validate with
 * them and the OpenAPI document is generated from them; the MCP tools derive their input and output
 * schemas from them; connectors reuse them. The result types the engine and the hub use are
 * inferred from them. `.openapi()` adds names and examples for the API reference only.
 */

/** Most rows one answer may ask for over HTTP (the MCP tools narrow it to their own cap). */
export const MAX_ROW_LIMIT = 100_000

export const IsoDateSchema = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date as YYYY-MM-DD')

export const DatasetNameSchema = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, 'must be a dataset name from the dataset list')

/** `limit`: at most `max` rows (the answer says when rows were left out). */
export const rowLimitSchema = (max: number) =>
  z
    .number()
    .int()
    .min(1)
    .max(max)
    .optional()
    .describe(`Most rows to return (1–${max}); the answer says when rows were left out`)

export const QuestionSchema = z
  .string()
  .trim()
  .min(1)
  .max(1000)
  .describe(
    'The question in plain language, naming a measure, how to break it down and a period, e.g. "Total TRx by product in Q4 2024"',
  )

export const askInputSchema = (maxRows: number) =>
  z
    .object({
      question: QuestionSchema,
      asOf: IsoDateSchema.optional().describe(
        'Reference date for relative periods such as "last quarter" (default: today)',
      ),
      limit: rowLimitSchema(maxRows),
    })
    .strict()

export const sqlInputSchema = (maxRows: number) =>
  z
    .object({
      sql: z
        .string()
        .min(1)
        .max(20_000)
        .describe('One read-only SELECT statement over the tables of the datasets the caller may see'),
      limit: rowLimitSchema(maxRows),
    })
    .strict()

export const AskInputSchema = askInputSchema(MAX_ROW_LIMIT)
export type AskInput = z.infer<typeof AskInputSchema>

export const SqlInputSchema = sqlInputSchema(MAX_ROW_LIMIT)
export type SqlInput = z.infer<typeof SqlInputSchema>

export const ResultColumnTypeSchema = z.enum(['string', 'integer', 'decimal', 'boolean', 'date', 'datetime'])
export type ResultColumnType = z.infer<typeof ResultColumnTypeSchema>

export const ResultColumnSchema = z.object({
  name: z.string(),
  type: ResultColumnTypeSchema,
  label: z.string(),
})
export type ResultColumn = z.infer<typeof ResultColumnSchema>

/** One row: cells in column order (database values; JSON renders dates as ISO strings). */
export const RowSchema = z.array(z.unknown())
export type Row = z.infer<typeof RowSchema>

export const QueryResultSchema = z.object({
  columns: z.array(ResultColumnSchema).describe('Column names, types and labels, in row order'),
  rows: z.array(RowSchema).describe('The data: one array of cells per row, in column order'),
  rowCount: z.number().int().describe('Rows in this answer'),
  truncated: z.boolean().describe('True when more rows exist than were returned'),
  durationMs: z.number(),
  sql: z.string().optional().describe('The SQL as run (analyst and admin roles only)'),
})
export type QueryResult = z.infer<typeof QueryResultSchema>

export const AskResultSchema = QueryResultSchema.extend({
  question: z.string(),
  interpretation: z.string().describe('How the hub understood the question; check it matches the intent'),
  plan: QueryPlanSchema.describe('The typed query plan the question became'),
  warnings: z
    .array(z.string())
    .describe('Say these to the user, e.g. the period asked lies outside the dates the data covers'),
  planner: z
    .literal('cohere')
    .optional()
    .describe('Set when the deterministic parser refused and an LLM planned the question'),
  plannerModel: z.string().optional().describe('The LLM that planned the question'),
})
export type AskResult = z.infer<typeof AskResultSchema>

export const MeasureSummarySchema = z.object({
  name: z.string(),
  label: z.string(),
  type: z.string(),
  aggregation: z.string(),
  synonyms: z.array(z.string()),
  derived: z.boolean().describe('Computed from other measures (e.g. a ratio), not a column'),
  nullable: z.boolean().describe('May be empty (NULL); false only for a NOT NULL column'),
})

export const DimensionSummarySchema = z.object({
  name: z.string(),
  label: z.string(),
  type: z.string(),
  kind: z.enum(['key', 'dimension', 'time']),
  synonyms: z.array(z.string()),
  nullable: z
    .boolean()
    .describe('May be empty (NULL); false only for a NOT NULL column, e.g. a required foreign key'),
})

export const DatasetSummarySchema = z.object({
  name: z.string(),
  primaryKey: z.array(z.string()).describe('Key fields: unique per row (the OData entity key)'),
  label: z.string(),
  description: z.string(),
  synonyms: z.array(z.string()),
  measures: z.array(MeasureSummarySchema),
  dimensions: z.array(DimensionSummarySchema),
  examples: z.array(z.string()).describe('Questions this dataset answers well'),
})
export type DatasetSummary = z.infer<typeof DatasetSummarySchema>

/** RFC 9457 problem document: `code` is the stable machine-readable code; no stack, SQL or secrets. */
export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.string(),
    requestId: z.string(),
    instance: z.string().optional(),
  })
  .catchall(z.unknown())
  .openapi('Problem')
export type Problem = z.infer<typeof ProblemSchema>
