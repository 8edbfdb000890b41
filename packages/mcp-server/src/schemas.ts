import {
  AskResultSchema,
  askInputSchema,
  DatasetNameSchema,
  DatasetSummarySchema,
  QueryResultSchema,
  SqlInputSchema,
  sqlInputSchema,
} from '@nl2q/core'
import { z } from 'zod'

/** Every tool only reads, and only the caller's own tenant data (a closed world). */
export const READ_ONLY_ANNOTATIONS = {
  readOnlyHint: true,
  destructiveHint: false,
  idempotentHint: true,
  openWorldHint: false,
} as const

/** The hub's request schemas (`@nl2q/core`), with `limit` narrowed to the MCP row cap. */
export const askInput = (maxRows: number) => askInputSchema(maxRows)

export const sqlInput = (maxRows: number) =>
  sqlInputSchema(maxRows).extend({
    sql: SqlInputSchema.shape.sql.describe(
      'One read-only SELECT statement over the tables describe_dataset shows',
    ),
  })

export const listDatasetsInput = z.object({}).strict()

export const describeDatasetInput = z
  .object({ name: DatasetNameSchema.describe('A dataset name from list_datasets') })
  .strict()

/** A cell as MCP answers carry it: database values become JSON scalars (`results.ts` toCell). */
const Cell = z.union([z.string(), z.number(), z.boolean(), z.null()])

/** The hub's QueryResult with cells as JSON scalars and the reason rows are missing. */
export const sqlOutput = QueryResultSchema.extend({
  rows: z.array(z.array(Cell)).describe(QueryResultSchema.shape.rows.description ?? ''),
  truncatedBy: z.enum(['row_limit', 'byte_limit']).nullable(),
})

/** The hub's AskResult, as capped for MCP, plus the dataset the question was answered from. */
export const askOutput = AskResultSchema.extend({
  ...sqlOutput.shape,
  dataset: z.string(),
})

/**
 * Exactly what describe_dataset returns (the hub's DatasetSummary): the SDK turns a zod object into
 * a JSON Schema with `additionalProperties: false`, so a field missing here fails strict clients.
 */
export const datasetOutput = DatasetSummarySchema

export const listDatasetsOutput = z.object({
  datasets: z.array(
    DatasetSummarySchema.pick({ name: true, label: true, description: true, examples: true }).extend({
      measures: z.array(z.string()).describe('Measure names (describe_dataset has the details)'),
      dimensions: z.array(z.string()).describe('Dimension names (describe_dataset has the details)'),
    }),
  ),
})
