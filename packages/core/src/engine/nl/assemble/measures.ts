import type { Intent, MeasureRef } from '../intent.ts'
import { ambiguous } from '../refuse.ts'
import type { Cue, ParseContext } from './context.ts'

/** A measure expression at p: [agg|count kw] [values…] (measure field | dataset | dimension). */
export function measureAt(
  c: ParseContext,
  p: number,
  agg?: Cue,
): { ref: MeasureRef; end: number } | undefined {
  let q = p
  let cue = agg
  while (q < c.items.length) {
    const k = c.kw(q)
    if (k === 'agg' || k === 'count' || k === 'distinct') {
      const it = c.items[q]
      if (it?.t === 'kw' && it.kw.k === 'agg') cue = { k: 'agg', agg: it.kw.agg }
      else if (it?.t === 'kw' && it.kw.k === 'count') {
        // "average number of items per order" is an aggregate of counts: not expressible yet
        if (cue?.k === 'agg' && cue.agg !== 'sum')
          throw ambiguous(
            `I can't yet compute the ${cue.agg === 'avg' ? 'average' : cue.agg} of a count; ask for the counts themselves (e.g. "number of … by …").`,
          )
        cue = { k: 'count' }
      }
      c.used[q] = true
      q++
      continue
    }
    // "average weekly NRx": the grain is the unit averaged over (claimed by groups)
    if (c.kw(q) === 'grain' && c.used[q] && cue?.k === 'agg') {
      q++
      continue
    }
    const kind = c.kindAt(q)
    if (kind === 'value') {
      // "how many cardiologists": a value that names an entity is what is counted, unless a
      // dataset or field follows ("how many cardiologists' visits")
      let r = q + 1
      while (c.kindAt(r) === 'value') r++
      const ent = c.entityOfValue(q)
      if (
        ent &&
        (cue?.k === 'count' || cue === undefined) &&
        c.kindAt(r) !== 'dataset' &&
        c.kindAt(r) !== 'field'
      )
        return { ref: { kind: 'count', dataset: ent }, end: -1 }
      q++
      continue
    }
    const qf = c.fieldAt(q)
    if (
      qf &&
      qf.def.kind !== 'measure' &&
      (c.valueOf(q + 1, qf.dataset, qf.field) || c.valueOf(q - 1, qf.dataset, qf.field))
    ) {
      // "segment A HCPs": the column name only qualifies its value
      q++
      continue
    }
    if (kind === 'dataset' && cue?.k === 'agg') {
      // "average call duration", "total order amount": the dataset only qualifies the field after it
      const nf = c.fieldAt(q + 1)
      if (nf && (cue.agg !== 'sum' || nf.def.kind === 'measure')) {
        c.used[q] = true
        q++
        continue
      }
    }
    break
  }
  const f = c.fieldAt(q)
  if (f) {
    if (f.def.kind === 'measure') {
      const ref: MeasureRef = { kind: 'field', dataset: f.dataset, field: f.field }
      if (cue?.k === 'agg' && cue.agg) ref.agg = cue.agg
      return { ref, end: q }
    }
    if (cue?.k === 'count') return { ref: { kind: 'countField', dataset: f.dataset, field: f.field }, end: q }
    if (cue?.k === 'agg' && (cue.agg === 'min' || cue.agg === 'max') && f.def.kind === 'time')
      return { ref: { kind: 'field', dataset: f.dataset, field: f.field, agg: cue.agg }, end: q }
    return undefined
  }
  const ds = c.datasetAt(q)
  if (ds && c.kindAt(q) === 'dataset' && (cue?.k === 'count' || cue?.agg === 'sum' || !cue))
    return { ref: { kind: 'count', dataset: ds }, end: q }
  const ent = c.entityOfValue(q)
  if (ent && cue?.k === 'count') return { ref: { kind: 'count', dataset: ent }, end: -1 }
  return undefined
}

export function measureCues(c: ParseContext): void {
  c.items.forEach((it, p) => {
    if (c.used[p] && !c.orderMeasureAt.has(p)) return
    const isOrder = c.orderMeasureAt.has(p)
    if (
      it.t === 'kw' &&
      (it.kw.k === 'agg' || it.kw.k === 'count' || it.kw.k === 'most' || it.kw.k === 'distinct')
    ) {
      if (it.kw.k === 'distinct') {
        c.used[p] = true
        c.intent.distinct = true
        return
      }
      c.used[p] = true
      const superl = it.kw.k === 'most' ? it.kw.dir : undefined
      const m = measureAt(
        c,
        p + 1,
        it.kw.k === 'agg' ? { k: 'agg', agg: it.kw.agg } : it.kw.k === 'count' ? { k: 'count' } : undefined,
      )
      if (!m) {
        // postfix: "HCP count by specialty", "TRx total"
        if (it.kw.k === 'count' || it.kw.k === 'agg') {
          const back = measureAt(c, p - 1, it.kw.k === 'agg' ? { k: 'agg', agg: it.kw.agg } : { k: 'count' })
          if (back && !c.used[back.end]) {
            c.claimMeasure(back.ref, back.end)
            return
          }
          if (it.alt?.length) {
            // "total" is also a column name here
            c.used[p] = false
            c.items[p] = { t: 'concept', from: it.from, to: it.to, text: it.text, cands: it.alt }
            c.resolved[p] = c.resolveKind(p)
            return
          }
        }
        if (superl) {
          superlativeWithoutMeasure(c, p, superl)
          return
        }
        throw ambiguous(`"${it.text}" of what? Name a measure, or what to count.`)
      }
      const isSubjectCount = m.ref.kind === 'count' && it.kw.k === 'count' && !isOrder
      c.claimMeasure(m.ref, m.end, isOrder || !!superl)
      if (superl || isOrder) {
        c.intent.order = {
          ...(c.intent.order ?? { ranking: false }),
          dir: superl ?? c.intent.order?.dir ?? 'desc',
          measure: m.ref,
        }
        if (superl && !c.intent.order.ranking && c.intent.order.limit === undefined) {
          // "the 3 highest" keeps 3; "the highest" keeps 1
          const n = c.items[p - 1]
          if (n?.t === 'number' && !c.used[p - 1] && Number.isInteger(n.value) && n.value > 0) {
            c.intent.order.limit = n.value
            c.used[p - 1] = true
          } else c.intent.order.limit = c.pendingLimit ?? 1
        }
      }
      if (it.kw.k === 'agg' && it.kw.superlative && m.ref.kind === 'field') m.ref.agg = it.kw.agg
      if (isSubjectCount && m.ref.kind === 'count' && !c.intent.subject) {
        c.intent.subject = { dataset: m.ref.dataset, plural: true, how: 'count' }
        c.subjectAt = m.end
      }
      return
    }
    if (isOrder) {
      const m = measureAt(c, p)
      if (m) {
        c.claimMeasure(m.ref, m.end, true)
        c.intent.order = {
          ...(c.intent.order ?? { ranking: false }),
          dir: c.intent.order?.dir ?? 'desc',
          measure: m.ref,
        }
      }
    }
  })
}

/**
 * "the 10 highest-prescribing HCPs", "the most active reps": a superlative with no measure after
 * it ranks the entity that follows by the measure its verb implies (or the model's default).
 */
export function superlativeWithoutMeasure(c: ParseContext, p: number, dir: 'asc' | 'desc'): void {
  let q = p + 1
  let verbDs: string | undefined
  while (c.kindAt(q) === 'verb' || c.kindAt(q) === 'value') {
    if (c.kindAt(q) === 'verb') {
      verbDs = c.datasetAt(q)
      c.used[q] = true
      if (verbDs) c.intent.verbs.push(verbDs)
    }
    q++
  }
  // "which specialty writes the most Tirosint": the verb before the superlative names the measure,
  // but only through the model's default measure (never a guessed column of the verb's table)
  let backVerb: string | undefined
  if (!verbDs)
    for (let b = p - 1; b >= 0; b--)
      if (c.kindAt(b) === 'verb') {
        backVerb = c.datasetAt(b)
        break
      }
  const n = c.items[p - 1]
  const counted =
    n?.t === 'number' && !c.used[p - 1] && Number.isInteger(n.value) && n.value > 0 ? n.value : undefined
  if (counted !== undefined) c.used[p - 1] = true
  const target = c.subjectish(q)
  if (target !== undefined) c.claimSubject(target, 'top')
  const prev = c.intent.order
  const order: NonNullable<Intent['order']> = { dir, ranking: prev?.ranking ?? counted !== undefined }
  const limit = counted ?? prev?.limit ?? c.pendingLimit ?? 1
  order.limit = limit
  if (prev?.measure) order.measure = prev.measure
  const def0 = c.model.defaultMeasure?.split('.')
  if (backVerb && !verbDs && !order.measure && def0?.[0] === backVerb && def0[1])
    order.measure = { kind: 'field', dataset: backVerb, field: def0[1] }
  if (verbDs && !order.measure) {
    const def = c.model.defaultMeasure?.split('.')
    const ds = c.model.datasets.find((d) => d.name === verbDs)
    const field = def?.[0] === verbDs ? def[1] : ds?.fields.find((f) => f.kind === 'measure')?.name
    if (field) order.measure = { kind: 'field', dataset: verbDs, field }
  }
  c.intent.order = order
}
