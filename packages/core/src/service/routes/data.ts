import { createRoute, z } from '@hono/zod-openapi'
import type { Context } from 'hono'
import {
  AskInputSchema,
  AskResultSchema,
  DatasetNameSchema,
  DatasetSummarySchema,
  ProblemSchema,
  QueryResultSchema,
  SqlInputSchema,
} from '../../api/schemas.ts'
import { QueryPlanSchema } from '../../engine/plan.ts'
import type { RequestContext } from '../../request-context.ts'
import { jsonText } from '../json-text.ts'
import { createRouter, jsonBody, jsonResponse, refusalErrors } from '../openapi.ts'
import type { Services } from '../services.ts'

const AskBody = AskInputSchema.extend({
  question: AskInputSchema.shape.question.openapi({
    example: 'What were total TRx for Tirosint in Q4 2024?',
  }),
}).openapi('AskRequest')

const ResultSchema = QueryResultSchema.openapi('SqlResult')
const AskResponse = AskResultSchema.extend({ plan: QueryPlanSchema.openapi('QueryPlan') }).openapi(
  'AskResponse',
)

const SqlBody = SqlInputSchema.extend({
  sql: SqlInputSchema.shape.sql.openapi({ example: 'SELECT product_name, list_price FROM products' }),
}).openapi('SqlRequest')

const DatasetSchema = DatasetSummarySchema.openapi('Dataset')

const DATASET_EXAMPLE: z.infer<typeof DatasetSchema> = {
  name: 'products',
  label: 'product',
  description: 'Products — measures: list price; dated by launch date',
  primaryKey: ['product_id'],
  synonyms: ['brand', 'drug', 'medication'],
  measures: [
    {
      name: 'list_price',
      label: 'list price',
      type: 'decimal',
      aggregation: 'sum',
      synonyms: ['price'],
      derived: false,
      nullable: true,
    },
  ],
  dimensions: [
    {
      name: 'product_name',
      label: 'product',
      type: 'string',
      kind: 'dimension',
      synonyms: ['brand name'],
      nullable: false,
    },
    {
      name: 'manufacturer',
      label: 'Manufacturer',
      type: 'string',
      kind: 'dimension',
      synonyms: ['maker'],
      nullable: true,
    },
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
      warnings: [],
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
        dimensions: [],
        select: [],
        having: null,
        order: [],
        limit: null,
        offset: 0,
        distinct: false,
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
    200: jsonResponse(ResultSchema, 'Rows', {
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
  request: { params: z.object({ name: DatasetNameSchema }) },
  responses: {
    200: jsonResponse(DatasetSchema, 'The dataset', DATASET_EXAMPLE),
    404: {
      description: 'No such dataset',
      content: { 'application/problem+json': { schema: ProblemSchema } },
    },
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
      // a cached answer's text is serialised once (json-text.ts)
      // (typed as the route's JSON response, which is what the text is)
      return c.body(jsonText(result), 200, { 'content-type': 'application/json' }) as never
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
