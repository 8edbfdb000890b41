import { HubError, isHubError } from '../../errors.ts'
import type { Principal } from '../../principal.ts'
import type { SemanticModel } from '../model-types.ts'
import { today } from '../nl/dates.ts'
import { interpret } from '../nl/interpret.ts'
import type { QueryPlan } from '../plan.ts'
import type { ValueIndex } from '../values/value-index.ts'
import { type LlmPlanner, LlmPlannerError } from './cohere-planner.ts'
import { LlmPlanSchema } from './llm-plan.ts'
import { modelCard } from './model-card.ts'

/** Refusals the LLM planner may try to answer; READ_ONLY, a withheld dataset and the like stay refused. */
const FALLBACK_CODES = new Set(['UNANSWERABLE', 'UNPLACEABLE_WORDS', 'UNKNOWN_FIELD', 'AMBIGUOUS'])

export interface LlmPlanned {
  plan: QueryPlan
  interpretation: string
  planner: { name: 'cohere'; model: string }
}

export interface LlmFallback {
  /** Plan a question the deterministic parser refused (`refusal`), or throw that refusal with why the LLM plan was not used. */
  plan(
    question: string,
    refusal: unknown,
    ctx: { principal: Principal; asOf?: string; viewKey: string; model: SemanticModel },
    check: (plan: QueryPlan) => void,
  ): Promise<LlmPlanned>
}

/**
 * The fallback around an LlmPlanner: only for parser refusals, validated against the strict plan
 * schema, checked by `check` (the engine's compile for the principal: unknown and forbidden fields,
 * withheld datasets, row scopes) before it is returned, and remembered per view + asOf + question
 * so the same question does not call the model again.
 */
export function createLlmFallback(llm: LlmPlanner, values: ValueIndex, valueSamples = 0): LlmFallback {
  const remembered = new Map<string, LlmPlanned>()
  const refuse = (refusal: HubError, outcome: string, reason: string): HubError =>
    new HubError(refusal.code, refusal.message, {
      details: { ...refusal.details, planner: { name: llm.name, model: llm.model, outcome, reason } },
      cause: refusal.cause,
    })
  return {
    async plan(question, refusal, ctx, check) {
      if (!isHubError(refusal) || !FALLBACK_CODES.has(refusal.code)) throw refusal
      const asOf = ctx.asOf ?? today()
      // the question as asked (only its spacing folded): the case of a value in it may be what it asks
      const key = `${ctx.viewKey}\u0000${asOf}\u0000${question.trim().replace(/\s+/g, ' ')}`
      const hit = remembered.get(key)
      if (hit) return hit
      let raw: unknown
      try {
        raw = await llm.propose({
          tenant: ctx.principal.tenant,
          question,
          asOf,
          card: modelCard(ctx.model, values, valueSamples),
        })
      } catch (err) {
        if (err instanceof LlmPlannerError) throw refuse(refusal, err.reason, err.message)
        throw err
      }
      const parsed = LlmPlanSchema.safeParse(raw)
      if (!parsed.success) {
        const issue = parsed.error.issues[0]
        throw refuse(refusal, 'invalid_plan', `${issue?.path.join('.') || '(root)'}: ${issue?.message}`)
      }
      if (!parsed.data.dataset) throw refuse(refusal, 'no_plan', 'The model found no reading of the question')
      const plan: QueryPlan = { ...parsed.data, offset: 0 }
      try {
        check(plan)
      } catch (err) {
        if (!isHubError(err)) throw err
        throw refuse(refusal, 'rejected', err.message)
      }
      const planned: LlmPlanned = {
        plan,
        interpretation: `${interpret(ctx.model, plan)} (planned by ${llm.name} ${llm.model})`,
        planner: { name: llm.name, model: llm.model },
      }
      if (remembered.size >= 1000) remembered.delete(remembered.keys().next().value as string)
      remembered.set(key, planned)
      return planned
    },
  }
}
