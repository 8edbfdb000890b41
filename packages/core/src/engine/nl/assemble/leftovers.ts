import type { Intent } from '../intent.ts'
import { ambiguous, unanswerable } from '../refuse.ts'
import type { ParseContext } from './context.ts'

export function leftovers(c: ParseContext): void {
  // the first noun names the subject; a column's name beside its value ("High priority") only qualifies it
  const labelOnly = (p: number) => {
    const f = c.fieldAt(p)
    return !!f && f.def.kind !== 'measure' && [p - 1, p + 1].some((q) => c.valueOf(q, f.dataset, f.field))
  }
  const firstContent = c.items.findIndex(
    (it, p) => it.t === 'concept' && c.kindAt(p) !== 'value' && !labelOnly(p),
  )
  c.items.forEach((it, p) => {
    if (c.used[p]) return
    if (it.t === 'kw') {
      const k = it.kw.k
      if (k === 'relverb') c.intent.relverb = true
      if (
        k === 'with' ||
        k === 'relverb' ||
        k === 'list' ||
        k === 'which' ||
        k === 'unit' ||
        k === 'combined'
      )
        c.used[p] = true
      if (k === 'grainNoun' && c.items[p + 1]?.t === 'time') c.used[p] = true
      return
    }
    if (it.t !== 'concept') return
    const kind = c.kindAt(p)
    if (kind === 'verb') {
      c.used[p] = true
      c.intent.verbs.push(c.datasetAt(p) as string)
      return
    }
    if (kind === 'dataset') {
      c.used[p] = true
      const ds = c.datasetAt(p) as string
      if (!c.intent.subject && p === firstContent) {
        c.intent.subject = { dataset: ds, plural: c.isPlural(p), how: 'first' }
        c.subjectAt = p
      } else c.intent.qualifiers.push(ds)
      return
    }
    if (kind === 'value' && !c.intent.subject && p === firstContent - 1 && c.entityOfValue(p)) {
      // "Endocrinologists in Texas": the value names the entity too
    }
    if (kind === 'field') {
      const f = c.fieldAt(p)
      if (!f) return
      if (f.def.kind === 'measure') {
        c.used[p] = true
        c.claimMeasure({ kind: 'field', dataset: f.dataset, field: f.field }, p)
        return
      }
      // "the Northeast region", "segment A": the column's name beside its value only qualifies it
      const near = [p - 1, p + 1].find((q) => c.valueOf(q, f.dataset, f.field))
      if (near !== undefined) {
        c.used[p] = true
        return
      }
      if (f.def.kind === 'time' && (c.items[p + 1]?.t === 'time' || c.items[p - 1]?.t === 'time')) return
      if (f.def.kind === 'time') {
        // "employees hired each year": the date column is what the grain buckets
        const grain = c.intent.dims.find((d) => d.kind === 'grain' && !d.field)
        if (grain?.kind === 'grain') {
          grain.field = { dataset: f.dataset, field: f.field }
          c.used[p] = true
          return
        }
        // "customers who opened tickets in 2024": the period applies to this date (see times)
        if (c.items.some((x) => x.t === 'time')) return
      }
      c.used[p] = true
      c.intent.selects.push({ dataset: f.dataset, field: f.field })
    }
  })
  if (!c.intent.subject) {
    const p = c.items.findIndex((_, q) => c.entityOfValue(q) !== undefined)
    const ent = p >= 0 ? c.entityOfValue(p) : undefined
    if (ent && (c.intent.measures.length === 0 || c.intent.cmps.length > 0))
      c.intent.subject = { dataset: ent, plural: c.isPlural(p), how: 'first' }
  }
}

/** Values in runs joined by and/or/vs/commas, negated by a preceding "not"/"excluding". */
export function valueGroups(c: ParseContext): void {
  const items = c.items
  let p = 0
  const hasVs = items.some((it) => it.t === 'kw' && it.kw.k === 'vs')
  while (p < items.length) {
    if (c.kindAt(p) !== 'value' || c.used[p]) {
      p++
      continue
    }
    let negate = false
    // "not Tirosint", "not in segment D" (the column's name between "not" and its value)
    const label = c.fieldAt(p - 1)
    const notAt = label && c.valueOf(p, label.dataset, label.field) ? p - 2 : p - 1
    if (c.kw(notAt) === 'not' && !c.used[notAt]) {
      negate = true
      c.used[notAt] = true
    }
    const group: Intent['values'][number] = { values: [], negate, compare: false }
    if (c.shareScope.has(p)) group.shareScope = true
    let q = p
    while (q < items.length) {
      const r = c.resolved[q]
      if (r?.kind !== 'value' || c.used[q]) break
      group.values.push({ cands: r.cands, text: items[q]?.text ?? '' })
      c.used[q] = true
      // a neighbouring column or dataset name restricts the value ("Boston territory")
      const hint = [q - 1, q + 1]
      for (const h of hint) {
        const f = c.fieldAt(h)
        if (f && c.valueOf(q, f.dataset, f.field)) {
          group.hintField = { dataset: f.dataset, field: f.field }
          c.used[h] = true
        }
        const ds = c.kindAt(h) === 'dataset' ? c.datasetAt(h) : undefined
        if (ds && r.cands.some((x) => x.concept.type === 'value' && x.concept.dataset === ds))
          group.hintDataset = ds
      }
      let r2 = q + 1
      let sep: string | undefined
      while (['and', 'or', 'comma', 'vs'].includes(c.kw(r2) ?? '')) {
        sep = sep === 'vs' ? sep : c.kw(r2)
        r2++
      }
      if (r2 > q + 1 && c.kindAt(r2) === 'value' && !c.used[r2] && c.sameColumn(q, r2)) {
        for (let s = q + 1; s < r2; s++) c.used[s] = true
        if (sep === 'vs') group.compare = true
        q = r2
        continue
      }
      break
    }
    if (group.values.length > 1 && hasVs) group.compare = true
    for (let s = p; s <= q; s++) if (c.sharePart.has(s)) group.sharePart = true
    c.intent.values.push(group)
    p = q + 1
  }
}

export function times(c: ParseContext): void {
  const items = c.items
  const timeIdx = items.map((it, p) => (it.t === 'time' ? p : -1)).filter((p) => p >= 0)
  for (const p of timeIdx) {
    const it = items[p]
    if (it?.t !== 'time') continue
    c.used[p] = true
    const bound = [p - 1, p + 1].map((q) => c.fieldAt(q)).find((f) => f?.def.kind === 'time')
    const intent: Intent['times'][number] = { range: it.range, text: it.text }
    if (bound) {
      intent.field = { dataset: bound.dataset, field: bound.field }
      const q = c.fieldAt(p - 1)?.def.kind === 'time' ? p - 1 : p + 1
      c.used[q] = true
      c.intent.selects = c.intent.selects.filter(
        (s) => !(s.dataset === bound.dataset && s.field === bound.field),
      )
    }
    c.intent.times.push(intent)
  }
  // a date column named elsewhere in the question ("who opened tickets in 2024") dates the periods
  const loose = c.items.map((_, q) => q).filter((q) => !c.used[q] && c.fieldAt(q)?.def.kind === 'time')
  const named = new Set(loose.map((q) => `${c.fieldAt(q)?.dataset}.${c.fieldAt(q)?.field}`))
  const unbound = c.intent.times.filter((t) => !t.field)
  if (named.size === 1 && unbound.length > 0) {
    const f = c.fieldAt(loose[0] as number)
    for (const t of unbound) if (f) t.field = { dataset: f.dataset, field: f.field }
    for (const q of loose) c.used[q] = true
  }
  // "2023 vs 2024", "Q3 and Q4 2024": several periods of one unit
  if (c.intent.times.length > 1) {
    const units = new Set(c.intent.times.map((t) => t.range.unit))
    const between = timeIdx.slice(0, -1).every((p, k) => {
      for (let q = p + 1; q < (timeIdx[k + 1] ?? p); q++)
        if (!['and', 'or', 'comma', 'vs'].includes(c.kw(q) ?? '')) return false
      return true
    })
    if (units.size === 1 && between) {
      timeIdx.forEach((p, k) => {
        for (let q = p + 1; q < (timeIdx[k + 1] ?? p); q++) c.used[q] = true
      })
      const compare = items.some(
        (x, q) => x.t === 'kw' && x.kw.k === 'vs' && q > (timeIdx[0] ?? 0) && q < (timeIdx.at(-1) ?? 0),
      )
      if (compare) c.intent.timeCompare = [...units][0]
    }
  }
}

export function finalCheck(c: ParseContext): void {
  c.items.forEach((it, p) => {
    if (c.used[p]) return
    if (it.t === 'kw') {
      const k = it.kw.k
      if (k === 'and' || k === 'or' || k === 'comma' || k === 'vs' || k === 'combined' || k === 'relverb')
        return
      if (k === 'both')
        throw ambiguous(
          'I can combine values as "either X or Y", not "both X and Y"; ask for each separately.',
        )
      if (k === 'not')
        throw ambiguous(`I couldn't tell what "${it.text}" excludes; name the value to exclude.`)
      if (k === 'grainNoun')
        throw ambiguous(`"${it.text}" — say "by ${it.text}" or name a period, e.g. "last ${it.text}".`)
      if (k === 'cmp') throw ambiguous(`"${it.text}" needs a number, e.g. "${it.text} 100".`)
      throw ambiguous(`I couldn't place "${it.text}" in the question.`)
    }
    if (it.t === 'number') throw ambiguous(`I couldn't tell what the number ${it.text} refers to.`)
    if (it.t === 'concept') throw ambiguous(`I couldn't place "${it.text}" in the question.`)
    if (it.t === 'unknown') throw unanswerable(`I can't relate "${it.text}" to the data I know about.`)
  })
}
