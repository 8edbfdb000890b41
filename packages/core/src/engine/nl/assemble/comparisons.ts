import type { CmpTarget, Intent } from '../intent.ts'
import { ambiguous } from '../refuse.ts'
import type { ParseContext } from './context.ts'
import { measureAt } from './measures.ts'

export function topN(c: ParseContext): void {
  c.items.forEach((it, p) => {
    if (it.t !== 'kw' || it.kw.k !== 'top' || c.used[p]) return
    c.used[p] = true
    let q = p + 1
    let limit: number | undefined
    const n = c.items[q]
    if (n?.t === 'number' && !n.ordinal && Number.isInteger(n.value) && n.value > 0 && n.value <= 10_000) {
      limit = n.value
      c.used[q] = true
      q++
    }
    // "5 best territories": the count may come before the word
    const before = c.items[p - 1]
    if (
      limit === undefined &&
      before?.t === 'number' &&
      !before.ordinal &&
      !c.used[p - 1] &&
      Number.isInteger(before.value) &&
      before.value > 0 &&
      before.value <= 10_000
    ) {
      limit = before.value
      c.used[p - 1] = true
    }
    while (c.kindAt(q) === 'value' && !c.entityOfValue(q)) q++
    const order: NonNullable<Intent['order']> = { dir: it.kw.dir, ranking: true }
    const target = c.subjectish(q)
    if (target !== undefined && limit === undefined) limit = c.isPlural(target) ? 10 : 1
    if (limit !== undefined) order.limit = limit
    c.intent.order = order
    if (target !== undefined) c.claimSubject(target, 'top')
  })
}

export function cmpTarget(c: ParseContext, q: number): { target: CmpTarget; at: number } | undefined {
  if (c.kw(q) === 'unit') {
    c.used[q] = true
    q++
  }
  const m = measureAt(c, q)
  if (m && m.ref.kind !== 'countField') {
    if (c.kindAt(m.end) === 'dataset' || c.kindAt(m.end) === 'field') c.used[m.end] = true
    return { target: { form: 'agg', measure: m.ref }, at: m.end }
  }
  return undefined
}

export function preTarget(c: ParseContext, p: number): { target: CmpTarget; at: number } | undefined {
  let q = p - 1
  if (c.kw(q) === 'with') q--
  const f = c.fieldAt(q)
  if (f && !c.used[q]) {
    c.used[q] = true
    return { target: { form: 'column', dataset: f.dataset, field: f.field }, at: q }
  }
  const ds = c.datasetAt(q)
  if (ds && c.kindAt(q) === 'dataset' && q !== c.subjectAt && c.intent.subject?.dataset !== ds) {
    c.used[q] = true
    return { target: { form: 'agg', measure: { kind: 'count', dataset: ds } }, at: q }
  }
  return undefined
}

export function comparisons(c: ParseContext): void {
  c.items.forEach((it, p) => {
    if (c.used[p]) return
    let op: Intent['cmps'][number]['op'] | undefined
    let values: number[] = []
    let after = p + 1
    if (it.t === 'kw' && it.kw.k === 'cmp' && !it.kw.postfix) {
      const n = c.items[p + 1]
      if (n?.t !== 'number') {
        if (['over', 'above', 'under', 'below'].includes(it.text.toLowerCase())) c.used[p] = true
        return
      }
      op = it.kw.op
      values = [n.value]
      c.used[p + 1] = true
      after = p + 2
    } else if (it.t === 'kw' && it.kw.k === 'between') {
      const a = c.items[p + 1]
      const b = c.items[p + 3]
      if (a?.t !== 'number' || b?.t !== 'number' || c.kw(p + 2) !== 'and') return
      op = 'between'
      values = [a.value, b.value].sort((x, y) => x - y)
      for (const q of [p + 1, p + 2, p + 3]) c.used[q] = true
      after = p + 4
    } else if (it.t === 'number' && it.plus) {
      op = 'gte'
      values = [it.value]
      after = p + 1
    } else if (it.t === 'kw' && it.kw.k === 'cmp' && it.kw.postfix) {
      const n = c.items[p - 1]
      if (n?.t !== 'number' || c.used[p - 1]) return
      op = it.kw.op
      values = [n.value]
      c.used[p - 1] = true
      c.used[p] = true
      const post = cmpTarget(c, p + 1)
      const pre = post ? undefined : preTarget(c, p - 1)
      const target = post ?? pre
      if (!target) throw ambiguous(`"${n.text} ${it.text}" of what?`)
      c.intent.cmps.push({ target: target.target, op, values, text: `${n.text} ${it.text}` })
      return
    } else return
    c.used[p] = true
    const post = cmpTarget(c, after)
    const target = post ?? preTarget(c, p)
    if (!target)
      throw ambiguous(`"${it.text} ${values.join(' and ')}" — more than what? Name the measure or column.`)
    c.intent.cmps.push({ target: target.target, op, values, text: `${it.text} ${values.join(' and ')}` })
  })
}
