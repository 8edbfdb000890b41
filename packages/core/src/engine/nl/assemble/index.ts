import type { SemanticModel } from '../../model-types.ts'
import type { Intent } from '../intent.ts'
import type { Item } from '../scan.ts'
import type { Token } from '../tokenize.ts'
import { comparisons, topN } from './comparisons.ts'
import { ParseContext } from './context.ts'
import { groups, sorts, whichAndList } from './groups.ts'
import { finalCheck, leftovers, times, valueGroups } from './leftovers.ts'
import { measureCues } from './measures.ts'
import { absences, checkShortValues, refuseEarly } from './refuse-early.ts'

/**
 * Items → Intent. Each structural keyword claims the items it governs (top N → its subject,
 * "by" → its dimensions, "more than N" → its target, "how many" → what is counted); whatever is
 * left is read by kind (measures, values as filters, entities as subject). Any item that cannot be
 * placed refuses the question rather than being dropped. The phases run in this order.
 */
export function assemble(items: Item[], tokens: Token[], model: SemanticModel): Intent {
  const c = new ParseContext(items, tokens, model)
  refuseEarly(c)
  checkShortValues(c)
  absences(c)
  topN(c)
  comparisons(c)
  whichAndList(c)
  groups(c)
  sorts(c)
  measureCues(c)
  leftovers(c)
  valueGroups(c)
  times(c)
  finalCheck(c)
  return c.intent
}
