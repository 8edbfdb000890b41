import { reachableFrom } from '../../model/join-graph.ts'
import { ambiguous } from '../refuse.ts'
import type { ParseContext } from './context.ts'

const PART_CUE = new Set(['from', 'is', 'was', 'are', 'were'])

export function groups(c: ParseContext): void {
  c.items.forEach((it, p) => {
    if (c.used[p] || it.t !== 'kw') return
    if (it.kw.k === 'grain' && it.kw.over) {
      // "quarter over quarter": a change series; its period is grouped by in build-plan (unless a
      // finer grain is asked: "YoY by quarter")
      c.used[p] = true
      c.intent.change = { pct: false, ...c.intent.change, over: it.kw.grain }
      return
    }
    if (it.kw.k === 'grain') {
      c.used[p] = true
      c.intent.dims.push({ kind: 'grain', grain: it.kw.grain, per: true })
      return
    }
    if (it.kw.k === 'share') {
      c.used[p] = true
      c.intent.share = { market: (c.intent.share?.market ?? false) || !!it.kw.market }
      for (let q = p + 1; c.kindAt(q) === 'value' || c.kw(q) === 'and' || c.kw(q) === 'or'; q++)
        if (c.kindAt(q) === 'value') c.shareScope.add(q)
      // the part: values right before "share" ("Synthroid share") or after "from"/"is"/"was"/"are"
      // ("came from Medicare"); any other value filters the numerator and the denominator alike
      for (let q = p - 1; c.kindAt(q) === 'value' || c.kw(q) === 'and' || c.kw(q) === 'or'; q--)
        if (c.kindAt(q) === 'value') c.sharePart.add(q)
      c.items.forEach((v, q) => {
        if (c.kindAt(q) === 'value' && PART_CUE.has(c.tokens[v.from - 1]?.lower ?? '')) c.sharePart.add(q)
      })
      return
    }
    if (it.kw.k === 'change') {
      c.used[p] = true
      const prev = c.intent.change
      c.intent.change = {
        ...(prev?.over ? { over: prev.over } : {}),
        pct: (prev?.pct ?? false) || !!it.kw.pct,
        ...((it.kw.rank ?? prev?.rank) ? { rank: it.kw.rank ?? prev?.rank } : {}),
      }
      // "the 5 fastest-growing territories"
      const n = c.items[p - 1]
      if (it.kw.rank && n?.t === 'number' && !c.used[p - 1] && Number.isInteger(n.value) && n.value > 0) {
        c.used[p - 1] = true
        c.intent.change.limit = n.value
      }
      return
    }
    if (it.kw.k === 'trend') {
      c.used[p] = true
      c.intent.trend = true
      return
    }
    if (it.kw.k !== 'group') return
    c.used[p] = true
    const before = c.intent.dims.length
    const per = it.text.toLowerCase() === 'per'
    let q = p + 1
    let found = false
    while (q < c.items.length) {
      const k = c.kw(q)
      if ((k === 'and' || k === 'comma') && found) {
        q++
        continue
      }
      const item = c.items[q]
      if (item?.t === 'kw' && item.kw.k === 'grainNoun') {
        c.used[q] = true
        c.intent.dims.push({ kind: 'grain', grain: item.kw.grain })
        found = true
        q++
        continue
      }
      if (k === 'agg' || k === 'count' || k === 'most') {
        c.orderMeasureAt.add(q)
        found = true
        break
      }
      const kind = c.kindAt(q)
      // "by company product": a yes/no column named right after "by" is grouped by, not a filter
      const flag = c.resolved[q]?.cands
      const flagField =
        kind === 'value' &&
        q === p + 1 &&
        flag?.every((x) => x.concept.type === 'value' && x.concept.value === true)
          ? flag[0]?.concept
          : undefined
      if (flagField?.type === 'value') {
        c.used[q] = true
        c.intent.dims.push({ kind: 'field', dataset: flagField.dataset, field: flagField.field })
        found = true
        q++
        continue
      }
      if (kind === 'value') {
        q++
        continue
      }
      if (kind === 'dataset') {
        const ds = c.datasetAt(q) as string
        c.used[q] = true
        const subj = c.intent.subject?.dataset
        if (
          subj &&
          subj !== ds &&
          reachableFrom(c.model, ds).has(subj) &&
          !reachableFrom(c.model, subj).has(ds)
        ) {
          // "top 3 reps by calls": a fact table after "by" is what the subject is ranked by
          c.orderMeasureAt.add(q)
          found = true
          break
        }
        if (c.qualifiesNext(q, ds)) {
          // "customer city", "product category": the first noun only says whose
          q++
          continue
        }
        c.intent.dims.push({ kind: 'entity', dataset: ds })
        found = true
        q++
        continue
      }
      const f = c.fieldAt(q)
      if (f) {
        if (f.def.kind === 'measure') {
          c.orderMeasureAt.add(q)
          found = true
          break
        }
        c.used[q] = true
        // "by year hired", "by month opened": the date column says what the grain buckets
        const prev = c.intent.dims.at(-1)
        if (f.def.kind === 'time' && prev?.kind === 'grain' && !prev.field && c.kw(q - 1) === 'grainNoun') {
          prev.field = { dataset: f.dataset, field: f.field }
          found = true
          q++
          continue
        }
        c.intent.dims.push(
          f.def.kind === 'time'
            ? { kind: 'grain', grain: f.def.grain ?? 'day', field: { dataset: f.dataset, field: f.field } }
            : { kind: 'field', dataset: f.dataset, field: f.field },
        )
        found = true
        q++
        continue
      }
      break
    }
    if (per) for (const d of c.intent.dims.slice(before)) d.per = true
    // "made by Pfizer", "written by cardiologists": "by" only introduces a filter
    if (!found && q > p + 1 && c.kindAt(p + 1) === 'value') return
    if (!found) throw ambiguous(`"${it.text}" what? Name what to group by.`)
  })
}

export function sorts(c: ParseContext): void {
  c.items.forEach((it, p) => {
    if (it.t !== 'kw' || c.used[p]) return
    if (it.kw.k === 'dir') {
      c.used[p] = true
      c.intent.order = { ...(c.intent.order ?? { ranking: false }), dir: it.kw.dir }
      return
    }
    if (it.kw.k !== 'sort') return
    c.used[p] = true
    const q = p + 1
    const f = c.fieldAt(q)
    const order = c.intent.order ?? { dir: it.kw.dir, ranking: false }
    if (f && f.def.kind !== 'measure') {
      c.used[q] = true
      c.intent.order = {
        ...order,
        dir: c.intent.order?.dir ?? it.kw.dir,
        dim: { dataset: f.dataset, field: f.field },
      }
    } else {
      c.orderMeasureAt.add(q)
      c.intent.order = order
    }
  })
}

export function whichAndList(c: ParseContext): void {
  c.items.forEach((it, p) => {
    if (it.t !== 'kw' || c.used[p] || (it.kw.k !== 'which' && it.kw.k !== 'list')) return
    c.used[p] = true
    // "customers who signed up …", "products that …": a relative pronoun, not a question word
    // "customers from Japan who joined …": after the entity, even with words between, it is relative
    if (
      it.kw.k === 'which' &&
      p > 0 &&
      c.items.slice(0, p).some((_, q) => c.kindAt(q) === 'dataset' || c.entityOfValue(q))
    )
      return
    if (it.kw.k === 'list') c.intent.list = true
    let q = p + 1
    while (c.kw(q) === 'list' || c.kw(q) === 'which' || c.kw(q) === 'distinct') {
      if (c.kw(q) === 'distinct') c.intent.distinct = true
      c.used[q] = true
      q++
    }
    const n = c.items[q]
    if (
      n?.t === 'number' &&
      !n.ordinal &&
      Number.isInteger(n.value) &&
      n.value > 0 &&
      n.value <= 1000 &&
      c.subjectish(q + 1) !== undefined
    ) {
      c.pendingLimit = n.value
      c.used[q] = true
      q++
    }
    while (c.kindAt(q) === 'value' && !c.entityOfValue(q)) q++
    const item = c.items[q]
    if (it.kw.k === 'which' && item?.t === 'kw' && item.kw.k === 'grainNoun') {
      c.used[q] = true
      c.intent.dims.push({ kind: 'grain', grain: item.kw.grain })
      return
    }
    const target = c.subjectish(q)
    if (target !== undefined) c.claimSubject(target, it.kw.k === 'which' ? 'which' : 'list')
  })
}
