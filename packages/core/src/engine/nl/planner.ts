import type { SemanticModel } from '../model-types.ts'
import type { QueryPlan } from '../plan.ts'
import { assemble } from './assemble/index.ts'
import { buildPlan } from './build-plan.ts'
import { checkCoverage } from './coverage.ts'
import { isValidDate, today } from './dates.ts'
import { interpret } from './interpret.ts'
import type { Lexicon } from './lexicon.ts'
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
): PlannedQuestion {
  const q = question.trim()
  if (!q) throw unanswerable('Ask a question about the data.')
  if (q.length > 500) throw unanswerable('That question is too long; ask one thing at a time.')
  const ref = asOf ?? today()
  if (!isValidDate(ref)) throw unanswerable(`asOf must be a date like 2025-01-15, not "${ref}".`)
  const tokens = tokenize(q)
  const items = scan(tokens, lexicon, ref)
  if (!items.some((it) => it.t === 'concept' || it.t === 'kw' || it.t === 'unknown' || it.t === 'time'))
    throw unanswerable('What would you like to know about the data?')
  const intent = assemble(items, tokens, model)
  const plan = buildPlan(intent, model)
  checkCoverage(items, intent, plan, model)
  const fuzzy = items.filter((it) => it.t === 'concept' && it.fuzzy)
  let interpretation = interpret(model, plan)
  if (fuzzy.length)
    interpretation += ` (read "${fuzzy.map((f) => f.text).join('", "')}" as the closest known name)`
  return { plan, interpretation }
}
