import { createRoute, z } from '@hono/zod-openapi'
import type { Context } from 'hono'
import type { RequestContext } from '../../hub/types.ts'
import { createRouter, jsonBody, jsonResponse, refusalErrors } from '../openapi.ts'
import type { Services } from '../services.ts'

const IsoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be YYYY-MM-DD')

const AskBody = z
  .object({
    question: z
      .string()
      .trim()
      .min(1)
      .max(1000)
      .openapi({ example: 'What were total TRx for Tirosint in Q4 2024?' }),
    asOf: IsoDate.optional().openapi({ description: 'Reference date for relative periods ("last quarter")' }),
    limit: z.number().int().min(1).max(100_000).optional(),
  })
  .strict()
  .openapi('AskRequest')

const ColumnSchema = z.object({ name: z.string(), type: z.string(), label: z.string() })
const ResultSchema = z.object({
  columns: z.array(ColumnSchema),
  rows: z.array(z.array(z.unknown())),
  rowCount: z.number().int(),
  truncated: z.boolean(),
  durationMs: z.number(),
  sql: z.string().optional().openapi({ description: 'Shown to analyst and admin roles only' }),
})
const AskResponse = ResultSchema.extend({
  question: z.string(),
  interpretation: z.string(),
  plan: z.record(z.string(), z.unknown()),
}).openapi('AskResponse')

const SqlBody = z
  .object({
    sql: z.string().min(1).max(20_000).openapi({ example: 'SELECT product_name, list_price FROM products' }),
    limit: z.number().int().min(1).max(100_000).optional(),
  })
  .strict()
  .openapi('SqlRequest')

const DatasetSchema = z
  .object({
    name: z.string(),
    label: z.string(),
    description: z.string(),
    synonyms: z.array(z.string()),
    measures: z.array(z.record(z.string(), z.unknown())),
    dimensions: z.array(z.record(z.string(), z.unknown())),
    examples: z.array(z.string()),
  })
  .openapi('Dataset')

const DATASET_EXAMPLE: z.infer<typeof DatasetSchema> = {
  name: 'products',
  label: 'product',
  description: 'Products — measures: list price; dated by launch date',
  synonyms: ['brand', 'drug', 'medication'],
  measures: [
    { name: 'list_price', label: 'list price', type: 'decimal', aggregation: 'sum', synonyms: ['price'] },
  ],
  dimensions: [
    { name: 'product_name', label: 'product', type: 'string', kind: 'dimension', synonyms: ['brand name'] },
    { name: 'manufacturer', label: 'Manufacturer', type: 'string', kind: 'dimension', synonyms: ['maker'] },
  ],
  examples: ['List the products', 'Average list price by manufacturer'],
}

const askRoute = createRoute({
  method: 'post',
  path: '/v1/ask',
  tags: ['data'],
  summary: 'Answer a natural-language question',
  security: [{ bearer: [] }],
  request: jsonBody(AskBody, 'The question', {
    question: 'Total TRx for Tirosint in Q4 2024',
    asOf: '2025-01-15',
  }),
  responses: {
    200: jsonResponse(AskResponse, 'The answer and how the question was understood', {
      columns: [{ name: 'trx', type: 'integer', label: 'Total TRx' }],
      rows: [[9529]],
      rowCount: 1,
      truncated: false,
      durationMs: 40,
      sql: 'select SUM(`prescriptions`.`trx`) as `trx` from `prescriptions` as `prescriptions` inner join `products` as `products` on `products`.`product_id` = `prescriptions`.`product_id` where (`products`.`product_name` = ? AND `prescriptions`.`week_ending` BETWEEN ? AND ?) limit ?',
      question: 'Total TRx for Tirosint in Q4 2024',
      interpretation: 'Total TRx for product Tirosint, week ending 2024-10-01 to 2024-12-31',
      plan: {
        dataset: 'prescriptions',
        measures: [{ field: 'prescriptions.trx', aggregation: 'sum', as: 'trx' }],
        filter: {
          op: 'and',
          args: [
            { op: 'eq', field: 'products.product_name', value: 'Tirosint' },
            { op: 'between', field: 'prescriptions.week_ending', values: ['2024-10-01', '2024-12-31'] },
          ],
        },
      },
    }),
    ...refusalErrors,
  },
})

const sqlRoute = createRoute({
  method: 'post',
  path: '/v1/sql',
  tags: ['data'],
  summary: 'Run one guarded, read-only SELECT (analyst, admin)',
  security: [{ bearer: [] }],
  request: jsonBody(SqlBody, 'One SELECT', {
    sql: 'SELECT product_name, list_price FROM products',
    limit: 100,
  }),
  responses: {
    200: jsonResponse(ResultSchema.openapi('SqlResult'), 'Rows', {
      columns: [
        { name: 'product_name', label: 'product_name', type: 'string' },
        { name: 'list_price', label: 'list_price', type: 'decimal' },
      ],
      rows: [
        ['Tirosint', 185.4],
        ['Synthroid', 62.3],
      ],
      rowCount: 2,
      truncated: false,
      durationMs: 1,
    }),
    ...refusalErrors,
  },
})

const datasetsRoute = createRoute({
  method: 'get',
  path: '/v1/datasets',
  tags: ['data'],
  summary: 'Datasets the caller may ask about',
  security: [{ bearer: [] }],
  responses: {
    200: jsonResponse(z.object({ datasets: z.array(DatasetSchema) }), 'Datasets', {
      datasets: [DATASET_EXAMPLE],
    }),
    ...refusalErrors,
  },
})

const datasetRoute = createRoute({
  method: 'get',
  path: '/v1/datasets/{name}',
  tags: ['data'],
  summary: 'One dataset: measures, dimensions and synonyms visible to the caller',
  security: [{ bearer: [] }],
  request: { params: z.object({ name: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/) }) },
  responses: {
    200: jsonResponse(DatasetSchema, 'The dataset', DATASET_EXAMPLE),
    404: { description: 'No such dataset', content: { 'application/problem+json': { schema: z.unknown() } } },
    ...refusalErrors,
  },
})

/** The request facts the hub records in audit and uses for cancellation. */
export function requestContext(c: Context, channel = 'api'): RequestContext {
  return {
    requestId: c.get('requestId'),
    clientIp: c.get('clientIp') ?? null,
    channel,
    signal: c.get('signal') ?? c.req.raw.signal,
  }
}

export function dataRoutes(services: Services) {
  const { hub } = services
  return createRouter()
    .openapi(askRoute, async (c) => {
      const body = c.req.valid('json')
      const result = await hub.ask(c.get('principal'), body, requestContext(c))
      return c.json(result as z.infer<typeof AskResponse>, 200)
    })
    .openapi(sqlRoute, async (c) => {
      const result = await hub.sql(c.get('principal'), c.req.valid('json'), requestContext(c))
      return c.json(result, 200)
    })
    .openapi(datasetsRoute, async (c) => c.json({ datasets: await hub.datasets(c.get('principal')) }, 200))
    .openapi(datasetRoute, async (c) =>
      c.json(await hub.dataset(c.get('principal'), c.req.valid('param').name), 200),
    )
}
