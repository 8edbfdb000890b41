import { HubError } from '../../../errors.ts'
import { readOnly, unanswerable, unknownField } from '../refuse.ts'
import type { Cand } from '../scan.ts'
import type { ParseContext } from './context.ts'

export function refuseEarly(c: ParseContext): void {
  const items = c.items
  const leading = items.findIndex((it) => !(it.t === 'kw' && (it.kw.k === 'list' || it.kw.k === 'which')))
  items.forEach((it, p) => {
    if (it.t === 'kw' && it.kw.k === 'write' && (!it.kw.leadingOnly || p === leading || p === 0))
      throw readOnly(it.text)
    // "Change the territory of …", "Increase the price …": an imperative at the start
    if (it.t === 'kw' && it.kw.k === 'change' && it.kw.write && (p === leading || p === 0))
      throw readOnly(it.text)
  })
  for (const it of items)
    if (it.t === 'time' && it.range.future)
      throw unanswerable(
        `"${it.text}" is in the future; the hub reports recorded data and does not forecast.`,
      )
  const forbidden = items.findIndex((_, p) => c.kindAt(p) === 'forbidden')
  if (forbidden >= 0) {
    throw unknownField(`There is no field "${items[forbidden]?.text}" that you can see.`)
  }
  const unknown: string[] = []
  let owner: string | undefined
  items.forEach((it, p) => {
    if (it.t !== 'unknown') return
    // "quantity dispensed", "units shipped": a participle after a measure only restates it
    if (/ed$/.test(it.text.toLowerCase()) && p > 0 && c.isMeasureField(p - 1)) {
      c.used[p] = true
      return
    }
    owner ??= c.datasetAt(p - 1) ?? c.datasetAt(p + 1)
    unknown.push(it.text)
  })
  if (owner && unknown.length > 0) {
    const ds = c.model.datasets.find((d) => d.name === owner)
    throw new HubError(
      'UNKNOWN_FIELD',
      `There is no field "${unknown.join(' ')}" on ${ds?.pluralLabel ?? owner} (or you may not see it).`,
      { details: { suggestions: [], words: unknown } },
    )
  }
  // every word that could not be read is named, not only the first
  if (unknown.length > 0)
    throw unanswerable(
      `I can't relate ${unknown.map((w) => `"${w}"`).join(', ')} to the data I know about.`,
      [],
      unknown,
    )
}

/** One-letter values ("segment A") count only next to their column's name. */
export function checkShortValues(c: ParseContext): void {
  const labelled = new Set<number>()
  c.items.forEach((it, p) => {
    const r = c.resolved[p]
    if (it.t !== 'concept' || r?.kind !== 'value') return
    const keep = r.cands.filter((x) => {
      if (!x.needsLabel || x.concept.type !== 'value') return true
      const cc = x.concept
      const named = [p - 1, p + 1].some((q) => {
        const f = c.fieldAt(q)
        return f && f.dataset === cc.dataset && f.field === cc.field
      })
      // "segment A or B": a later value of a run shares the label of the first
      const run =
        ['or', 'and', 'comma'].includes(c.kw(p - 1) ?? '') &&
        labelled.has(p - 2) &&
        c.valueOf(p - 2, cc.dataset, cc.field)
      return named || run
    })
    if (keep.some((x) => x.needsLabel)) labelled.add(p)
    if (keep.length === 0) throw unanswerable(`I can't tell what "${it.text}" refers to.`)
    r.cands = keep
  })
}

/**
 * "had no completed calls", "without calls that quarter": a negation before a dataset (with values
 * of it between) asks for the subject's rows that have no such rows — an anti-join, not a filter.
 */
export function absences(c: ParseContext): void {
  c.items.forEach((it, p) => {
    if (it.t !== 'kw' || it.kw.k !== 'not' || c.used[p]) return
    let q = p + 1
    const values: { cands: Cand[]; text: string }[] = []
    while (c.kindAt(q) === 'value') {
      const v = c.items[q]
      if (v?.t === 'concept') values.push({ cands: c.resolved[q]?.cands ?? v.cands, text: v.text })
      q++
    }
    const ds = c.kindAt(q) === 'dataset' ? c.datasetAt(q) : undefined
    if (!ds || ds === c.intent.subject?.dataset) return
    for (let r = p; r <= q; r++) c.used[r] = true
    let sameTime = false
    // "that quarter", "that year", "the same period": the question's own period
    const next = c.items[q + 1]
    const after = c.items[q + 2]
    if (
      next?.t === 'kw' &&
      next.text.toLowerCase() === 'that' &&
      after?.t === 'kw' &&
      after.kw.k === 'grainNoun'
    ) {
      sameTime = true
      c.used[q + 1] = true
      c.used[q + 2] = true
    }
    c.intent.absent.push({
      dataset: ds,
      values,
      sameTime,
      text: c.items
        .slice(p, q + 1)
        .map((x) => x.text)
        .join(' '),
    })
  })
}
