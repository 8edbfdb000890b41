import { z } from 'zod'
import { QueryPlanSchema } from '../plan.ts'

/**
 * The part of the QueryPlan an LLM may return: one dataset, measures, dimensions, a row listing,
 * filters, order and a limit. Strict: no other key, so no SQL text, no tenant, and none of the
 * shapes that add joins of their own (bridges, exists) — those stay with the deterministic parser.
 */
export const LlmPlanSchema = QueryPlanSchema.pick({
  dataset: true,
  measures: true,
  dimensions: true,
  select: true,
  filter: true,
  having: true,
  order: true,
  limit: true,
  distinct: true,
}).strict()

/** The JSON schema sent as Cohere's structured response format. */
export function llmPlanJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(LlmPlanSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>
}
