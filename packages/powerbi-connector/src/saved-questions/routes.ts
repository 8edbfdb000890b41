import { createRoute, z } from '@hono/zod-openapi'
import {
  createRouter,
  HubError,
  IsoDateSchema,
  ProblemSchema,
  QuestionSchema,
  type RouteContext,
} from '@nl2q/core'
import type { Context } from 'hono'
import type { PowerBiSettings } from '../config.ts'
import { savedSetName } from '../odata/catalog.ts'
import { safeIdentifier } from '../odata/entity-sets.ts'
import { type SavedColumn, type SavedQuestion, savedQuestionStore } from './store.ts'

const NAME = /^[A-Za-z][A-Za-z0-9_]{0,59}$/

const SavedQuestionInput = z
  .object({
    name: z
      .string()
      .regex(NAME, 'a letter, then letters, digits or _ (at most 60)')
      .openapi({ example: 'tirosint_trx_by_region' }),
    question: QuestionSchema.openapi({ example: 'Total TRx for Tirosint by region last quarter' }),
    asOf: IsoDateSchema.optional().openapi({
      description: 'Fixed reference date for relative periods; omit to use the refresh date',
    }),
  })
  .strict()
  .openapi('SavedQuestionInput', {
    example: { name: 'tirosint_trx_by_region', question: 'Total TRx for Tirosint by region in Q4 2024' },
  })

const SAVED_EXAMPLE = {
  id: 'c333010f-63ef-478b-adb9-b8fe8d0b30f2',
  name: 'tirosint_trx_by_region',
  question: 'Total TRx for Tirosint by region in Q4 2024',
  asOf: null,
  columns: [
    { name: 'region', source: 'region', type: 'string', label: 'Region' },
    { name: 'trx', source: 'trx', type: 'integer', label: 'Total TRx' },
  ],
  createdBy: 'apikey:10cbe589a20a4e5e',
  createdAt: '2025-01-15T09:30:00.000Z',
  entitySet: 'saved_tirosint_trx_by_region',
  url: 'https://hub.example.com/odata/saved_tirosint_trx_by_region',
}

const SavedQuestionSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    question: z.string(),
    asOf: z.string().nullable(),
    columns: z.array(z.object({ name: z.string(), source: z.string(), type: z.string(), label: z.string() })),
    createdBy: z.string(),
    createdAt: z.string(),
    entitySet: z.string().openapi({ description: 'The OData entity set that answers it at every refresh' }),
    url: z.string(),
  })
  .openapi('SavedQuestion', { example: SAVED_EXAMPLE })

const problem = (description: string) => ({
  description,
  content: {
    'application/problem+json': { schema: ProblemSchema },
  },
})
const errors = {
  400: problem('Invalid request'),
  401: problem('Missing or invalid credential'),
  403: problem('The role does not allow this'),
  429: problem('Rate limit exceeded'),
}
const NameParam = z.object({ name: z.string().regex(NAME) })

export interface SavedQuestionRoutesOptions {
  ctx: RouteContext<PowerBiSettings>
  /** Where the OData feed is mounted (for the entity set URL in responses). */
  feedPrefix: string
}

/**
 * `/v1/saved-questions`: analysts store a natural-language question once; the OData feed exposes it
 * as the entity set `saved_<name>`, answered afresh (for the refreshing principal) at every refresh.
 * Behind the core's `/v1/*` authentication and rate limit.
 */
export function savedQuestionRoutes(options: SavedQuestionRoutesOptions) {
  const { ctx, feedPrefix } = options
  const storeOf = (c: Context) => savedQuestionStore(ctx.state.for(c))
  const writers = ctx.security.requireRole('analyst', 'admin')
  const view = (c: Context, q: SavedQuestion) => ({
    id: q.id,
    name: q.name,
    question: q.question,
    asOf: q.asOf,
    columns: q.columns,
    createdBy: q.createdBy,
    createdAt: q.createdAt,
    entitySet: savedSetName(q.name),
    url: `${(ctx.hub.info.publicUrl ?? new URL(c.req.url).origin).replace(/\/+$/, '')}${feedPrefix}/${savedSetName(q.name)}`,
  })

  const create = createRoute({
    method: 'post',
    path: '/v1/saved-questions',
    tags: ['powerbi'],
    summary: 'Save a question as a refreshable OData entity set (analyst, admin)',
    security: [{ bearer: [] }],
    middleware: [writers] as const,
    request: { body: { content: { 'application/json': { schema: SavedQuestionInput } }, required: true } },
    responses: {
      201: { description: 'Saved', content: { 'application/json': { schema: SavedQuestionSchema } } },
      409: problem('A saved question with that name exists'),
      422: problem('The question cannot be answered'),
      ...errors,
    },
  })
  const list = createRoute({
    method: 'get',
    path: '/v1/saved-questions',
    tags: ['powerbi'],
    summary: "Your tenant's saved questions",
    security: [{ bearer: [] }],
    responses: {
      200: {
        description: 'Saved questions',
        content: {
          'application/json': {
            schema: z.object({ items: z.array(SavedQuestionSchema) }),
            example: { items: [SAVED_EXAMPLE] },
          },
        },
      },
      ...errors,
    },
  })
  const get = createRoute({
    method: 'get',
    path: '/v1/saved-questions/{name}',
    tags: ['powerbi'],
    summary: 'One saved question',
    security: [{ bearer: [] }],
    request: { params: NameParam },
    responses: {
      200: {
        description: 'The saved question',
        content: { 'application/json': { schema: SavedQuestionSchema } },
      },
      404: problem('No such saved question'),
      ...errors,
    },
  })
  const remove = createRoute({
    method: 'delete',
    path: '/v1/saved-questions/{name}',
    tags: ['powerbi'],
    summary: 'Delete a saved question (analyst, admin)',
    security: [{ bearer: [] }],
    middleware: [writers] as const,
    request: { params: NameParam },
    responses: { 204: { description: 'Deleted' }, 404: problem('No such saved question'), ...errors },
  })

  return createRouter()
    .openapi(create, async (c) => {
      const input = c.req.valid('json')
      const principal = c.get('principal')
      // Answer it once now: an unanswerable question is refused at save time, and its columns
      // become the entity type of the set.
      const answer = await ctx.hub
        .for(c)
        .ask({ question: input.question, ...(input.asOf ? { asOf: input.asOf } : {}), limit: 1 })
      const taken = new Set<string>(['row_number'])
      const columns: SavedColumn[] = answer.columns.map((col) => ({
        name: safeIdentifier(col.name, taken),
        source: col.name,
        type: col.type,
        label: col.label,
      }))
      const saved = await storeOf(c).create({
        name: input.name,
        question: input.question,
        asOf: input.asOf ?? null,
        columns,
        createdBy: principal.subject,
      })
      await ctx.audit
        .for(c)
        .append({ action: 'saved_question.create', resource: saved.name, outcome: 'success' })
      return c.json(view(c, saved), 201)
    })
    .openapi(list, async (c) => {
      const items = await storeOf(c).list()
      return c.json({ items: items.map((q) => view(c, q)) }, 200)
    })
    .openapi(get, async (c) => {
      const saved = await storeOf(c).get(c.req.valid('param').name)
      if (!saved) throw new HubError('NOT_FOUND', `No saved question '${c.req.valid('param').name}'`)
      return c.json(view(c, saved), 200)
    })
    .openapi(remove, async (c) => {
      const { name } = c.req.valid('param')
      if (!(await storeOf(c).remove(name))) throw new HubError('NOT_FOUND', `No saved question '${name}'`)
      await ctx.audit.for(c).append({ action: 'saved_question.delete', resource: name, outcome: 'success' })
      return c.body(null, 204)
    })
}
