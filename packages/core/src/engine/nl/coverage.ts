import { HubError } from '../../errors.ts'
import { joinPath, reachableFrom } from '../model/join-graph.ts'
import type { SemanticModel } from '../model-types.ts'
import type { PlanFilter, QueryPlan, Scalar } from '../plan.ts'
import type { Intent } from './intent.ts'
import type { CmpOp } from './keywords.ts'
import type { Item } from './scan.ts'

/**
 * Account for every word: after a plan is built, each scanned item (every non-filler word of the
 * question belongs to exactly one) must be visible in the plan — a value as a filter, a measure as
 * a measure, "top 3" as order + limit, "by" as a dimension, "vs" as two or more groups, "most" as
 * a ranking… An item the plan does not reflect was dropped or misread somewhere in the parser, and
 * answering anyway would be a confident wrong answer; the question is refused naming those words.
 * One map from items to plan parts, checked once, instead of special cases in each phase.
 */
type Leaf = Extract<PlanFilter, { field: string }>

function leaves(f: PlanFilter | null, out: Leaf[] = [], negated = false): Leaf[] {
  if (!f) return out
  if (f.op === 'and' || f.op === 'or') for (const a of f.args) leaves(a, out, negated)
  else if (f.op === 'not') leaves(f.arg, out, !negated)
  else {
    const leaf = f as Leaf
    out.push(negated ? { ...leaf, op: leaf.op === 'eq' ? 'ne' : leaf.op } : leaf)
  }
  return out
}

const NEGATIVE = new Set(['ne', 'not_in'])
/** Which filter ops carry a comparison word ("more than 3" may be stored as gte 4). */
const CMP_OPS: Record<CmpOp, string[]> = {
  gt: ['gt', 'gte'],
  gte: ['gte', 'gt'],
  lt: ['lt', 'lte'],
  lte: ['lte', 'lt'],
  eq: ['eq', 'in', 'between'],
  ne: ['ne', 'not_in'],
}
const CONNECTORS = new Set([
  'and',
  'or',
  'comma',
  'with',
  'relverb',
  'list',
  'which',
  'unit',
  'combined',
  'distinct',
])

class Coverage {
  private readonly filterLeaves: Leaf[]
  private readonly havingLeaves: Leaf[]
  private readonly fieldsUsed = new Set<string>()
  private readonly datasetsUsed = new Set<string>()

  constructor(
    private readonly plan: QueryPlan,
    private readonly intent: Intent,
    private readonly model: SemanticModel,
  ) {
    this.filterLeaves = leaves(plan.filter)
    leaves(plan.share?.numerator ?? null, this.filterLeaves)
    for (const e of plan.exists ?? []) {
      leaves(e.filter, this.filterLeaves)
      this.datasetsUsed.add(e.dataset)
    }
    this.havingLeaves = leaves(plan.having)
    for (const e of plan.exists ?? [])
      if (e.count) this.havingLeaves.push({ op: e.count.op, field: `${e.dataset}.*`, value: e.count.value })
    const refs = [
      ...plan.measures.map((m) => m.field),
      ...plan.dimensions.map((d) => d.field),
      ...(plan.rollup?.over ?? []).map((d) => d.field),
      ...plan.select.map((s) => s.field),
      ...this.filterLeaves.map((l) => l.field),
    ]
    this.datasetsUsed.add(plan.dataset)
    for (const r of refs) {
      this.fieldsUsed.add(r)
      const [d = '', f = ''] = r.split('.')
      // a dataset is in the answer when a column of it is, when it lies on the join path to one,
      // or when a counted key names it (COUNT(DISTINCT calls.hcp_id) counts HCPs)
      this.datasetsUsed.add(d)
      for (const step of joinPath(model, plan.dataset, d) ?? []) this.datasetsUsed.add(step.to.dataset)
      const ref = model.datasets.find((x) => x.name === d)?.fields.find((x) => x.name === f)?.references
      if (ref) this.datasetsUsed.add(ref.dataset)
    }
    // "calls by reps in the Southwest": a qualifying dataset scopes the path the rows are reached by
    const reach = reachableFrom(model, plan.dataset)
    for (const q of [...intent.qualifiers, ...intent.verbs]) if (reach.has(q)) this.datasetsUsed.add(q)
  }

  private fieldType(ref: string): string | undefined {
    const [d, f] = ref.split('.')
    return this.model.datasets.find((x) => x.name === d)?.fields.find((x) => x.name === f)?.type
  }

  private isMeasureAlias(alias: string): boolean {
    const change = this.plan.change ? ['_change', '_pct_change', '_previous'] : []
    return this.plan.measures.some((m) => m.as === alias || change.some((x) => `${m.as}${x}` === alias))
  }

  private rankedBy(dir: 'asc' | 'desc'): boolean {
    const rw = this.plan.rankWithin
    if (rw) return rw.direction === dir && this.isMeasureAlias(rw.by)
    const first = this.plan.order[0]
    if (first && first.direction === dir && this.isMeasureAlias(first.by)) return true
    // a listing ranked by a column of its rows ("top 5 products by list price")
    if (first && first.direction === dir && this.plan.limit !== null && this.plan.measures.length === 0)
      return true
    // "the highest list price": the max itself, when nothing else was to be ranked
    return (
      !this.intent.subject &&
      this.plan.dimensions.length === 0 &&
      this.plan.measures.length === 1 &&
      this.plan.measures.some((m) => m.aggregation === (dir === 'desc' ? 'max' : 'min'))
    )
  }

  private hasNumber(n: number): boolean {
    if (this.plan.limit === n || this.plan.rankWithin?.limit === n) return true
    if (this.plan.change && this.intent.change?.limit === n) return this.plan.limit === n
    for (const l of [...this.filterLeaves, ...this.havingLeaves]) {
      if (l.value === n) return true
      if (l.values?.includes(n)) return true
      // "more than 3" may be stored as gte 4 (and "fewer than 3" as lte 2) by a door
      if (l.op === 'gte' && l.value === n + 1) return true
      if (l.op === 'lte' && l.value === n - 1) return true
    }
    return false
  }

  private sameValue(a: Scalar | undefined, b: string | number | boolean): boolean {
    if (a === undefined || a === null) return false
    if (typeof b === 'boolean' || typeof a === 'boolean') return Boolean(a) === Boolean(b)
    return String(a).toLowerCase() === String(b).toLowerCase()
  }

  private valuePlaced(it: Extract<Item, { t: 'concept' }>): boolean {
    for (const c of it.cands) {
      const k = c.concept
      if (k.type !== 'value') continue
      const ref = `${k.dataset}.${k.field}`
      for (const l of this.filterLeaves) {
        if (l.field !== ref) continue
        if (typeof k.value === 'boolean') return true
        if (this.sameValue(l.value, k.value)) return true
        if (l.values?.some((v) => this.sameValue(v, k.value))) return true
      }
    }
    return false
  }

  private fieldPlaced(dataset: string, field: string): boolean {
    const ref = `${dataset}.${field}`
    if (this.fieldsUsed.has(ref)) return true
    // an order on a listed column
    return this.plan.order.some((o) => this.plan.select.some((s) => s.as === o.by && s.field === ref))
  }

  /** Is the item reflected in the plan? */
  placed(it: Item, p: number, items: Item[]): boolean {
    const plan = this.plan
    switch (it.t) {
      case 'unknown':
        return false
      case 'number':
        return this.hasNumber(it.value)
      case 'time': {
        const want = [it.range.start, it.range.end].filter((x): x is string => !!x)
        return this.filterLeaves.some((l) => {
          if (!['date', 'datetime'].includes(this.fieldType(l.field) ?? '')) return false
          const got = [l.value, ...(l.values ?? [])].map((v) => String(v))
          return want.some((w) => got.includes(w))
        })
      }
      case 'concept': {
        const c = it.cands[0]?.concept
        if (!c || c.type === 'forbidden') return false
        if (it.cands.every((x) => x.concept.type === 'value')) return this.valuePlaced(it)
        // a concept the parser read as any of its candidates: placed if any reading shows in the plan
        return it.cands.some((x) => {
          const k = x.concept
          if (k.type === 'value') return this.valuePlaced({ ...it, cands: [x] })
          if (k.type === 'field') return this.fieldPlaced(k.dataset, k.field)
          if (k.type === 'dataset' || k.type === 'verb') return this.datasetsUsed.has(k.dataset)
          return false
        })
      }
      case 'kw':
        break
    }
    const kw = it.kw
    // "who wrote the most Tirosint": a person is asked for, so the answer must list rows of something
    // (not the largest single record); "HCPs who wrote …" is a relative pronoun, placed as any connector
    if (kw.k === 'which' && p === 0 && /^(who|whom)$/i.test(it.text))
      return plan.dimensions.length > 0 || plan.select.length > 0
    if (CONNECTORS.has(kw.k)) return true
    switch (kw.k) {
      case 'top':
        return (plan.limit !== null || !!plan.rankWithin) && this.rankedBy(kw.dir) && this.subjectIsRows()
      case 'most':
        return this.rankedBy(kw.dir) && this.subjectIsRows()
      case 'agg':
        if (kw.agg === 'sum') return plan.measures.length > 0
        return (
          plan.measures.some((m) => m.aggregation === kw.agg) ||
          plan.rollup?.aggregation === kw.agg ||
          (kw.superlative !== undefined && this.rankedBy(kw.superlative))
        )
      case 'count':
        return plan.measures.length > 0 || plan.distinct
      case 'group':
        return (
          plan.dimensions.length > 0 ||
          !!plan.rollup ||
          // "made by Pfizer": "by" introduces a filter value
          (items[p + 1]?.t === 'concept' && this.placed(items[p + 1] as Item, p + 1, items)) ||
          // "top 3 reps by calls": what the rows are ranked by
          (plan.order.length > 0 && plan.limit !== null)
        )
      case 'grain':
        // "quarter over quarter": a change whose step spans one such period
        if (kw.over) return !!plan.change && overPlaced(plan, kw.grain)
        return [...plan.dimensions, ...(plan.rollup?.over ?? [])].some((d) => d.grain === kw.grain)
      case 'grainNoun':
        return (
          [...plan.dimensions, ...(plan.rollup?.over ?? [])].some((d) => d.grain === kw.grain) ||
          (kw.k === 'grainNoun' && this.filterLeaves.some((l) => this.fieldType(l.field)?.startsWith('date')))
        )
      case 'share':
        return !!plan.share
      case 'change': {
        // a ranked change must be ranked by that change: "percent growth" by the % change
        if (!plan.change) return false
        const first = plan.order[0]
        const byChange = !!first && this.isMeasureAlias(first.by) && first.by.endsWith('_change')
        if (kw.rank && !(byChange && first?.direction === kw.rank)) return false
        const pct = this.intent.change?.pct ?? false
        if (byChange && first?.by.endsWith('_pct_change') !== pct) return false
        return true
      }
      case 'trend':
        return plan.dimensions.some((d) => d.grain)
      case 'vs':
        return this.comparesGroups()
      case 'not':
        return (
          !!plan.exists?.some((e) => e.negate) ||
          this.filterLeaves.some((l) => NEGATIVE.has(l.op) || l.value === false) ||
          this.havingLeaves.some((l) => NEGATIVE.has(l.op))
        )
      case 'cmp': {
        // "over the last 6 months": a period's preposition, the period placed on its own
        if (items[p + 1]?.t === 'time') return true
        // the comparison itself must be in the plan: a leaf of its kind (filter or HAVING)
        const ops = CMP_OPS[kw.op]
        return [...this.filterLeaves, ...this.havingLeaves].some((l) => ops.includes(l.op))
      }
      case 'between':
        return [...this.filterLeaves, ...this.havingLeaves].some((l) => l.op === 'between')
      case 'sort':
      case 'dir':
        return plan.order.length > 0
      default:
        return false
    }
  }

  /** "vs": the answer has one row per side — a grouped column not pinned to a single value. */
  private comparesGroups(): boolean {
    if (this.intent.timeCompare) return this.plan.dimensions.some((d) => d.grain)
    return this.plan.dimensions.some(
      (d) => !this.filterLeaves.some((l) => l.field === d.field && (l.op === 'eq' || l.op === 'ne')),
    )
  }

  /** A ranked subject ("top 3 prescribers …") must be what the rows are, not something else ranked. */
  private subjectIsRows(): boolean {
    const s = this.intent.subject
    if (!s || (s.how !== 'top' && s.how !== 'which')) return true
    const rows = [...this.plan.dimensions.map((d) => d.field), ...this.plan.select.map((x) => x.field)]
    if (rows.length === 0) return false
    return rows.some((r) => r.startsWith(`${s.dataset}.`) || this.refersTo(r, s.dataset))
  }

  /** A foreign-key column naming the entity (`prescriptions.hcp_id` → hcps). */
  private refersTo(ref: string, dataset: string): boolean {
    const [d, f] = ref.split('.')
    const field = this.model.datasets.find((x) => x.name === d)?.fields.find((x) => x.name === f)
    return field?.references?.dataset === dataset
  }
}

const MONTHS: Record<string, number> = { month: 1, quarter: 3, year: 12 }

/** The change compares periods one `over` apart: its time grain × step spans exactly that. */
function overPlaced(plan: QueryPlan, over: string): boolean {
  const ch = plan.change
  const grain = plan.dimensions.find((d) => d.as === ch?.time)?.grain
  if (!ch || !grain) return false
  const step = ch.step ?? 1
  if (grain === over) return step === 1
  const a = MONTHS[over]
  const b = MONTHS[grain]
  return !ch.periods && !!a && !!b && a === b * step
}

/** Throws UNPLACEABLE_WORDS naming every word of the question the plan does not account for. */
export function checkCoverage(items: Item[], intent: Intent, plan: QueryPlan, model: SemanticModel): void {
  const cov = new Coverage(plan, intent, model)
  const missing: string[] = []
  items.forEach((it, p) => {
    if (!cov.placed(it, p, items)) missing.push(it.text)
  })
  if (missing.length === 0) return
  const words = [...new Set(missing)]
  throw new HubError(
    'UNPLACEABLE_WORDS',
    `I couldn't account for ${words.map((w) => `"${w}"`).join(', ')} in an answer, so I won't guess; rephrase or leave ${words.length > 1 ? 'them' : 'it'} out.`,
    { details: { words, suggestions: [] } },
  )
}
