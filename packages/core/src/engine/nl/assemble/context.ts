import { reachableFrom } from '../../model/join-graph.ts'
import { singular } from '../../model/words.ts'
import type { Aggregation, Field, SemanticModel } from '../../model-types.ts'
import { emptyIntent, type Intent, type MeasureRef } from '../intent.ts'
import type { Concept } from '../lexicon.ts'
import type { Cand, Item } from '../scan.ts'
import type { Token } from '../tokenize.ts'

/**
 * The state the assembly phases share: the scanned items, which of them are used, what kind of
 * thing each concept item names (after narrowing its candidates), and the intent being built.
 */
export type Kind = 'dataset' | 'field' | 'value' | 'verb' | 'forbidden'
export type Cue = { k: 'agg'; agg: Aggregation } | { k: 'count'; agg?: undefined }

interface Resolved {
  kind: Kind
  cands: Cand[]
}

export class ParseContext {
  readonly used: boolean[]
  readonly resolved: (Resolved | undefined)[]
  readonly intent: Intent = emptyIntent()
  /** Items that start a measure expression claimed by "by"/"sorted by" (an order measure). */
  readonly orderMeasureAt = new Set<number>()
  subjectAt: number | undefined
  /** Value items named right after "share of": the denominator's scope. */
  readonly shareScope = new Set<number>()
  /** Value items naming the part whose share is asked: the share's numerator. */
  readonly sharePart = new Set<number>()
  /** "Which 3 territories …": a count given before the subject, for a superlative after it. */
  pendingLimit: number | undefined

  constructor(
    readonly items: Item[],
    readonly tokens: Token[],
    readonly model: SemanticModel,
  ) {
    this.used = items.map(() => false)
    this.resolved = items.map((it, p) => (it.t === 'concept' ? this.resolveKind(p) : undefined))
  }

  // ── item helpers ────────────────────────────────────────────────────────────
  field(dataset: string, field: string): Field | undefined {
    return this.model.datasets.find((d) => d.name === dataset)?.fields.find((f) => f.name === field)
  }

  kw(p: number): string | undefined {
    const it = this.items[p]
    return it?.t === 'kw' ? it.kw.k : undefined
  }

  kindAt(p: number): Kind | undefined {
    return this.resolved[p]?.kind
  }

  fieldAt(p: number): { dataset: string; field: string; def: Field } | undefined {
    const r = this.resolved[p]
    if (r?.kind !== 'field') return undefined
    const c = r.cands[0]?.concept
    if (c?.type !== 'field') return undefined
    const def = this.field(c.dataset, c.field)
    return def ? { dataset: c.dataset, field: c.field, def } : undefined
  }

  datasetAt(p: number): string | undefined {
    const r = this.resolved[p]
    const c = r?.kind === 'dataset' || r?.kind === 'verb' ? r.cands[0]?.concept : undefined
    return c && (c.type === 'dataset' || c.type === 'verb') ? c.dataset : undefined
  }

  /** The entity a value phrase also names ("cardiologists" → hcps). */
  entityOfValue(p: number): string | undefined {
    const r = this.resolved[p]
    if (r?.kind !== 'value') return undefined
    for (const c of r.cands) if (c.concept.type === 'value' && c.concept.entity) return c.concept.entity
    return this.pluralValueEntity(p, r.cands)
  }

  /**
   * "engineers", "managers": a singular stored value typed in the plural names rows of its own
   * dataset (employees whose title is Engineer), when only one dataset holds it.
   */
  private pluralValueEntity(p: number, cands: Cand[]): string | undefined {
    const it = this.items[p]
    if (it?.t !== 'concept' || it.fuzzy) return undefined
    const typed = this.tokens[it.to - 1]?.lower ?? ''
    if (!/[a-z]s$/.test(typed) || singular(typed) === typed) return undefined
    const datasets = new Set<string>()
    for (const c of cands) {
      if (c.concept.type !== 'value' || typeof c.concept.value !== 'string') continue
      if (c.concept.how !== 'exact') continue
      const stored =
        c.concept.value
          .toLowerCase()
          .split(/[\s-]+/)
          .at(-1) ?? ''
      if (stored === typed || singular(typed) !== stored) continue
      const f = this.field(c.concept.dataset, c.concept.field)
      if (f?.kind === 'dimension') datasets.add(c.concept.dataset)
    }
    return datasets.size === 1 ? [...datasets][0] : undefined
  }

  isMeasureField(p: number): boolean {
    const f = this.fieldAt(p)
    return f?.def.kind === 'measure'
  }

  isPlural(p: number): boolean {
    const it = this.items[p]
    if (!it) return true
    const last = this.tokens[it.to - 1]?.lower ?? ''
    return singular(last) !== last || /s$/.test(last)
  }

  /**
   * "IDs of paused members": a word that names a field of several datasets (every key is an "ID")
   * means the one of a dataset the question names; without such a dataset the candidates stay.
   */
  private inNamedDataset(best: Cand[]): Cand[] {
    const fieldDatasets = new Set(best.map((c) => (c.concept.type === 'field' ? c.concept.dataset : '')))
    if (fieldDatasets.size < 2 || fieldDatasets.has('')) return best
    const named = new Set<string>()
    for (const it of this.items)
      if (it.t === 'concept')
        for (const c of it.cands) if (c.concept.type === 'dataset') named.add(c.concept.dataset)
    const keep = best.filter((c) => c.concept.type === 'field' && named.has(c.concept.dataset))
    const kept = new Set(keep.map((c) => (c.concept.type === 'field' ? c.concept.dataset : '')))
    return kept.size === 1 ? keep : best
  }

  /** Narrow a concept item's candidates by priority and decide what kind of thing it names. */
  resolveKind(p: number): Resolved | undefined {
    const it = this.items[p]
    if (it?.t !== 'concept') return undefined
    let cands = it.cands
    if (cands.every((c) => c.concept.type === 'forbidden')) return { kind: 'forbidden', cands }
    cands = cands.filter((c) => c.concept.type !== 'forbidden')
    // values keep every candidate column: the resolver picks by reachability and closeness
    if (cands.every((c) => c.concept.type === 'value')) return { kind: 'value', cands }
    // "prescribing" / "prescribed" share a stem with "prescriber": the -ing/-ed form is the verb
    const word = this.tokens[it.to - 1]?.lower ?? ''
    const verbs = cands.filter((c) => c.concept.type === 'verb')
    if (verbs.length && it.to - it.from === 1 && /(ing|ed)$/.test(word)) return { kind: 'verb', cands: verbs }
    // "tickets opened in May": the participle of a date column's verb, not the status "Open"
    if (it.to - it.from === 1 && /ed$/.test(word)) {
      const timeField = cands.find((c) => {
        const k = c.concept
        return k.type === 'field' && this.field(k.dataset, k.field)?.kind === 'time'
      })
      const vals = cands.filter((c) => c.concept.type === 'value')
      if (
        timeField &&
        vals.length &&
        vals.every((v) => v.concept.type === 'value' && !/ed$/i.test(String(v.concept.value)))
      )
        return { kind: 'field', cands: [timeField] }
    }
    // "our products vs competitors": a boolean column's name beside "vs" is one side of the flag
    const boolVals = cands.filter((c) => c.concept.type === 'value' && typeof c.concept.value === 'boolean')
    if (
      boolVals.length &&
      [this.items[p - 1], this.items[p + 1]].some((n) => n?.t === 'kw' && n.kw.k === 'vs')
    )
      return { kind: 'value', cands: boolVals }
    const top = Math.max(...cands.map((c) => c.prio))
    if (cands.some((c) => c.concept.type === 'dataset'))
      for (const c of cands) if (c.concept.type === 'verb') this.intent.weakVerbs.push(c.concept.dataset)
    const best = this.inNamedDataset(cands.filter((c) => c.prio === top))
    const types = new Set(best.map((c) => c.concept.type))
    const only = (t: Concept['type']) => ({
      kind: t as Kind,
      cands: best.filter((c) => c.concept.type === t),
    })
    if (types.size === 1) return only(best[0]?.concept.type ?? 'value')
    // a boolean column's name is a filter on it ("company products") unless grouped by
    const values = best.filter((c) => c.concept.type === 'value')
    const fields = best.filter((c) => c.concept.type === 'field')
    if (
      values.length &&
      fields.length &&
      values.every((v) =>
        fields.some(
          (f) =>
            f.concept.type === 'field' &&
            v.concept.type === 'value' &&
            f.concept.field === v.concept.field &&
            f.concept.dataset === v.concept.dataset,
        ),
      )
    )
      return only('value')
    if (types.has('dataset') && types.has('verb')) {
      for (const c of best) if (c.concept.type === 'verb') this.intent.weakVerbs.push(c.concept.dataset)
      return only('dataset')
    }
    if (types.has('verb')) return only('verb')
    if (types.has('field') && types.has('dataset')) return only('field')
    if (types.has('field') && types.has('value')) {
      // "reps' emails" (a field of the neighbouring dataset) vs "email calls" (a value)
      const near = [this.items[p - 1], this.items[p + 1]]
      const fieldDs = fields.map((f) => (f.concept.type === 'field' ? f.concept.dataset : ''))
      const nearDs = near.flatMap((n) =>
        n?.t === 'concept' ? n.cands.map((c) => (c.concept.type === 'dataset' ? c.concept.dataset : '')) : [],
      )
      return fieldDs.some((d) => nearDs.includes(d)) ? only('field') : only('value')
    }
    if (types.has('dataset')) return only('dataset')
    return only(best[0]?.concept.type ?? 'value')
  }

  // ── phases ──────────────────────────────────────────────────────────────────
  /** Is the item at q a thing that can be ranked, listed or grouped (entity, dimension, entity-naming value)? */
  subjectish(q: number): number | undefined {
    if (this.kindAt(q) === 'dataset') return q
    if (this.entityOfValue(q)) return q
    const f = this.fieldAt(q)
    if (f && f.def.kind !== 'measure') return q
    return undefined
  }

  claimSubject(q: number, how: NonNullable<Intent['subject']>['how']): void {
    const ds = this.kindAt(q) === 'dataset' ? this.datasetAt(q) : this.entityOfValue(q)
    if (ds) {
      if (!this.intent.subject) {
        this.intent.subject = { dataset: ds, plural: this.isPlural(q), how }
        this.subjectAt = q
      }
      if (this.kindAt(q) === 'dataset') this.used[q] = true
      return
    }
    const f = this.fieldAt(q)
    if (f) {
      this.used[q] = true
      this.intent.dims.push({ kind: 'field', dataset: f.dataset, field: f.field })
      this.intent.whichField = { dataset: f.dataset, field: f.field }
    }
  }

  /** Is the dataset named at q only the owner of what follows ("customer city", "product category")? */
  qualifiesNext(q: number, ds: string): boolean {
    const nf = this.fieldAt(q + 1)
    if (nf && nf.def.kind !== 'measure')
      return nf.dataset === ds || reachableFrom(this.model, ds).has(nf.dataset)
    const nd = this.kindAt(q + 1) === 'dataset' ? this.datasetAt(q + 1) : undefined
    return !!nd && nd !== ds && reachableFrom(this.model, ds).has(nd)
  }

  claimMeasure(ref: MeasureRef, at: number, orderOnly = false): void {
    if (at >= 0) this.used[at] = true
    const same = this.intent.measures.find((m) => JSON.stringify(m) === JSON.stringify(ref))
    if (!same && !(orderOnly && ref.kind === 'count' && this.intent.subject?.dataset === ref.dataset))
      this.intent.measures.push(ref)
  }

  valueOf(q: number, dataset: string, field: string): boolean {
    const r = this.resolved[q]
    return (
      !!r &&
      r.kind === 'value' &&
      r.cands.some(
        (c) => c.concept.type === 'value' && c.concept.dataset === dataset && c.concept.field === field,
      )
    )
  }

  sameColumn(a: number, b: number): boolean {
    const cols = (p: number) =>
      new Set(
        (this.resolved[p]?.cands ?? []).map((c) =>
          c.concept.type === 'value' ? `${c.concept.dataset}.${c.concept.field}` : '',
        ),
      )
    const ca = cols(a)
    return [...cols(b)].some((c) => c && ca.has(c))
  }
}
