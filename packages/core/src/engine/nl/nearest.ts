import type { Item } from './scan.ts'

/**
 * Refusals that help: the nearest answerable questions built from the words of this question the
 * engine recognised (a measure, a value, a breakdown, a period), never a fixed list. Each candidate
 * is kept only when it plans, so a suggestion never leads to another refusal.
 */
export function nearestQuestions(items: Item[], plans: (q: string) => boolean, max = 3): string[] {
  const measures: string[] = []
  const values: string[] = []
  const groups: string[] = []
  const times: string[] = []
  for (const it of items) {
    if (it.t === 'time') times.push(it.text)
    if (it.t !== 'concept' || it.fuzzy) continue
    const c = it.cands[0]?.concept
    if (!c) continue
    if (it.cands.every((x) => x.concept.type === 'value')) values.push(it.text)
    else if (c.type === 'field' || c.type === 'dataset') (measures.length ? groups : measures).push(it.text)
  }
  const m = measures[0]
  if (!m) return []
  const t = times[0] ? ` in ${times[0]}` : ''
  const cands = [
    ...values.map((v) => `${m} for ${v}${t}`),
    ...groups.map((g) => `${m} by ${g}${t}`),
    `${m}${t}`,
    ...values.map((v) => `${m} for ${v}`),
  ]
  const out: string[] = []
  for (const q of [...new Set(cands)]) {
    if (out.length >= max) break
    if (plans(q)) out.push(q.charAt(0).toUpperCase() + q.slice(1))
  }
  return out
}
