import type { SemanticModel } from '../model-types.ts'
import type { Item } from './scan.ts'
import type { Token } from './tokenize.ts'

/**
 * "tickets opened by admin users", "orders placed by Berlin customers": after the participle of the
 * rows' own event ("opened" = the opened_on date), "by" names who did it — values and an entity,
 * a filter — not a breakdown. The participle says nothing more when its date is never empty (every
 * ticket was opened), so both words are read and dropped; a nullable date ("closed") is not; a period in the question still dates the rows. Only the narrow
 * shape -ed word (a date column) + by + one or more values + the entity they belong to.
 */
export function readAgentPhrases(items: Item[], tokens: Token[], model: SemanticModel): Item[] {
  const out = [...items]
  for (let p = 0; p + 3 < out.length; p++) {
    const verb = out[p]
    const by = out[p + 1]
    if (verb?.t !== 'concept' || by?.t !== 'kw' || by.kw.k !== 'group') continue
    if (verb.to - verb.from !== 1 || !/[a-z]ed$/i.test(tokens[verb.from]?.lower ?? '')) continue
    const isTime = verb.cands.some((c) => {
      if (c.concept.type !== 'field') return false
      const { dataset, field } = c.concept
      const f = model.datasets.find((d) => d.name === dataset)?.fields.find((x) => x.name === field)
      // "closed by" says something when not every row was closed: only a date every row has is silent
      return f?.kind === 'time' && f.nullable === false
    })
    if (!isTime) continue
    let q = p + 2
    let values = 0
    const valueDatasets = new Set<string>()
    for (; q < out.length; q++) {
      const it = out[q]
      if (it?.t !== 'concept' || !it.cands.every((c) => c.concept.type === 'value')) break
      values++
      for (const c of it.cands) if (c.concept.type === 'value') valueDatasets.add(c.concept.dataset)
    }
    const entity = out[q]
    const named =
      entity?.t === 'concept' &&
      entity.cands.some((c) => c.concept.type === 'dataset' && valueDatasets.has(c.concept.dataset))
    if (values === 0 || !named) continue
    out.splice(p, 2)
  }
  return out
}
