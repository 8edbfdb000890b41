import { HubError, isHubError } from '../../errors.ts'
import type { SemanticModel } from '../model-types.ts'
import type { QueryPlan } from '../plan.ts'
import { readAgentPhrases } from './agent-phrases.ts'
import { assemble } from './assemble/index.ts'
import { buildPlan } from './build-plan.ts'
import { checkCoverage } from './coverage.ts'
import { isValidDate, today } from './dates.ts'
import { interpret } from './interpret.ts'
import type { Lexicon } from './lexicon.ts'
import { nearestQuestions } from './nearest.ts'
import { unanswerable } from './refuse.ts'
import { scan } from './scan.ts'
import { tokenize } from './tokenize.ts'

/** question → tokens → items → intent → QueryPlan + restatement. Pure: no I/O. */
export interface PlannedQuestion {
  plan: QueryPlan
  interpretation: string
}

export function planQuestion(
  question: string,
  model: SemanticModel,
  lexicon: Lexicon,
  asOf?: string,
  /** Build suggestions on a refusal (off while checking a suggestion itself). */
  suggest = true,
): PlannedQuestion {
  const q = question.trim()
  if (!q) throw unanswerable('Ask a question about the data.')
  if (q.length > 500) throw unanswerable('That question is too long; ask one thing at a time.')
  const ref = asOf ?? today()
  if (!isValidDate(ref)) throw unanswerable(`asOf must be a date like 2025-01-15, not "${ref}".`)
  const tokens = tokenize(q)
  const items = readAgentPhrases(scan(tokens, lexicon, ref), tokens, model)
  if (!items.some((it) => it.t === 'concept' || it.t === 'kw' || it.t === 'unknown' || it.t === 'time'))
    throw unanswerable('What would you like to know about the data?')
  let plan: QueryPlan
  let intent: ReturnType<typeof assemble>
  try {
    intent = assemble(items, tokens, model)
    plan = buildPlan(intent, model)
    checkCoverage(items, intent, plan, model)
  } catch (err) {
    throw suggest ? withNearest(err, items, (q) => planQuestion(q, model, lexicon, ref, false)) : err
  }
  const fuzzy = items.filter((it) => it.t === 'concept' && it.fuzzy)
  let interpretation = interpret(model, plan)
  if (fuzzy.length)
    interpretation += ` (read "${fuzzy.map((f) => f.text).join('", "')}" as the closest known name)`
  return { plan, interpretation }
}

/** A refusal gets suggestions made of the words the engine did recognise, each one that plans. */
function withNearest(err: unknown, items: ReturnType<typeof scan>, plans: (q: string) => unknown): unknown {
  if (
    !isHubError(err) ||
    !['UNANSWERABLE', 'AMBIGUOUS', 'UNPLACEABLE_WORDS', 'UNKNOWN_FIELD'].includes(err.code)
  )
    return err
  const existing = err.details?.suggestions
  if (Array.isArray(existing) && existing.length > 0) return err
  const suggestions = nearestQuestions(items, (q) => {
    try {
      plans(q)
      return true
    } catch {
      return false
    }
  })
  if (suggestions.length === 0) return err
  return new HubError(err.code, err.message, { details: { ...err.details, suggestions }, cause: err.cause })
}
