import { z } from 'zod'

/** Every tool only reads, and only the caller's own tenant data (a closed world). */
export const READ_ONLY_ANNOTATIONS = {
  readOnlyHint: true,
  destructiveHint: false,
  idempotentHint: true,
  openWorldHint: false,
} as const

const IsoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date as YYYY-MM-DD')
const Limit = (max: number) =>
  z
    .number()
    .int()
    .min(1)
    .max(max)
    .optional()
    .describe(`Most rows to return (1–${max}); the answer says when rows were left out`)

export const askInput = (maxRows: number) =>
  z
    .object({
      question: z
        .string()
        .trim()
        .min(1)
        .max(1000)
        .describe(
          'The question in plain language, naming a measure, how to break it down and a period, e.g. "Total TRx by product in Q4 2024"',
        ),
      asOf: IsoDate.optional().describe(
        'Reference date for relative periods such as "last quarter" (default: today)',
      ),
      limit: Limit(maxRows),
    })
    .strict()

export const sqlInput = (maxRows: number) =>
  z
    .object({
      sql: z
        .string()
        .min(1)
        .max(20_000)
        .describe('One read-only SELECT statement over the tables describe_dataset shows'),
      limit: Limit(maxRows),
    })
    .strict()

export const listDatasetsInput = z.object({}).strict()

export const describeDatasetInput = z
  .object({
    name: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, 'must be a dataset name from list_datasets')
      .describe('A dataset name from list_datasets'),
  })
  .strict()

const Column = z.object({ name: z.string(), type: z.string(), label: z.string() })
const Cell = z.union([z.string(), z.number(), z.boolean(), z.null()])

const rowsShape = {
  columns: z.array(Column).describe('Column names, types and labels, in row order'),
  rows: z.array(z.array(Cell)).describe('The data: one array of cells per row, in column order'),
  rowCount: z.number().int().describe('Rows in this answer'),
  truncated: z.boolean().describe('True when more rows exist than were returned'),
  truncatedBy: z.enum(['row_limit', 'byte_limit']).nullable(),
  durationMs: z.number(),
  sql: z.string().optional().describe('The SQL as run (analyst and admin roles only)'),
}

export const askOutput = z.object({
  question: z.string(),
  interpretation: z.string().describe('How the hub understood the question; check it matches the intent'),
  dataset: z.string(),
  ...rowsShape,
  plan: z.record(z.string(), z.unknown()).describe('The typed query plan the question became'),
  warnings: z
    .array(z.string())
    .optional()
    .describe('Say these to the user, e.g. the period asked lies outside the dates the data covers'),
})

export const sqlOutput = z.object(rowsShape)

const MeasureSummary = z.object({
  name: z.string(),
  label: z.string(),
  type: z.string(),
  aggregation: z.string(),
  synonyms: z.array(z.string()),
  derived: z.boolean().describe('Computed from other measures (e.g. a ratio), not a column'),
  nullable: z.boolean().describe('May be empty (NULL)'),
})
const DimensionSummary = z.object({
  name: z.string(),
  label: z.string(),
  type: z.string(),
  kind: z.enum(['key', 'dimension', 'time']),
  synonyms: z.array(z.string()),
  nullable: z.boolean().describe('May be empty (NULL)'),
})

/**
 * Exactly what describe_dataset returns (the hub's DatasetSummary): the SDK turns a zod object into
 * a JSON Schema with `additionalProperties: false`, so a field missing here fails strict clients.
 */
export const datasetOutput = z.object({
  name: z.string(),
  primaryKey: z.array(z.string()).describe('Key fields: unique per row'),
  label: z.string(),
  description: z.string(),
  synonyms: z.array(z.string()),
  measures: z.array(MeasureSummary),
  dimensions: z.array(DimensionSummary),
  examples: z.array(z.string()).describe('Questions this dataset answers well'),
})

export const listDatasetsOutput = z.object({
  datasets: z.array(
    z.object({
      name: z.string(),
      label: z.string(),
      description: z.string(),
      measures: z.array(z.string()),
      dimensions: z.array(z.string()),
      examples: z.array(z.string()),
    }),
  ),
})
