import type { Dataset, Field, SemanticModel } from '../model-types.ts'
import type { PlanFilter, QueryPlan, Scalar } from '../plan.ts'

/**
 * A plain-English restatement of a plan, so the asker can check what was understood:
 * "Total TRx for product Tirosint, week ending 2024-10-01 to 2024-12-31".
 */
/** Lower-case a label's first letter mid-sentence, unless it is an acronym ("HCPs"). */
function mid(s: string): string {
  return /^[A-Z][a-z]/.test(s) ? s.charAt(0).toLowerCase() + s.slice(1) : s
}

const AGG: Record<string, string> = { sum: 'Total', avg: 'Average', min: 'Minimum', max: 'Maximum' }
const OPS: Record<string, string> = {
  gt: 'above',
  gte: 'at least',
  lt: 'below',
  lte: 'at most',
  eq: '=',
  ne: '≠',
}

class Describer {
  constructor(
    private readonly model: SemanticModel,
    private readonly plan: QueryPlan,
  ) {}

  private ds(name: string): Dataset | undefined {
    return this.model.datasets.find((d) => d.name === name)
  }

  private field(ref: string): { ds?: Dataset; f?: Field } {
    const [d = '', f = ''] = ref.split('.')
    const ds = this.ds(d)
    return { ds, f: ds?.fields.find((x) => x.name === f) }
  }

  private plural(ds: Dataset | undefined): string {
    return mid(ds?.pluralLabel ?? ds?.label ?? 'rows')
  }

  /** "product" for products.product_name (the entity's own label), else the column's label. */
  private fieldName(ref: string): string {
    const { ds, f } = this.field(ref)
    if (!f) return ref
    if (ds && ds.labelColumns.length === 1 && ds.labelColumns[0] === f.name) return ds.label.toLowerCase()
    return f.label.replace(/^[A-Z][a-z]/, (s) => s.toLowerCase())
  }

  private measure(m: QueryPlan['measures'][number]): string {
    const { ds, f } = this.field(m.field)
    if (m.aggregation === 'count') return `Number of ${this.plural(ds)}`
    if (m.aggregation === 'count_distinct') {
      if (f?.references) return `Number of ${this.plural(this.ds(f.references.dataset))}`
      return `Number of distinct ${f ? this.fieldName(m.field) : m.field} values`
    }
    if (f?.derived) return f.label
    const agg = AGG[m.aggregation] ?? m.aggregation
    const label = f?.label ?? m.field
    // "Total amount" is already a total
    if (label.toLowerCase().startsWith(`${agg.toLowerCase()} `)) return label
    return `${agg} ${mid(label)}`
  }

  private value(v: Scalar | undefined): string {
    return v === undefined || v === null ? 'empty' : String(v)
  }

  filter(p: PlanFilter, having = false): string {
    if (p.op === 'and') return p.args.map((a) => this.filter(a, having)).join(', ')
    if (p.op === 'or') return p.args.map((a) => this.filter(a, having)).join(' or ')
    if (p.op === 'not') return `not (${this.filter(p.arg, having)})`
    return this.leaf(p as Extract<PlanFilter, { field: string }>, having)
  }

  private leaf(p: Extract<PlanFilter, { field: string }>, having: boolean): string {
    const name = having ? this.havingName(p.field) : this.fieldName(p.field)
    const { f } = having ? { f: undefined } : this.field(p.field)
    if (f?.type === 'boolean' && (p.op === 'eq' || p.op === 'ne')) {
      const yes = (p.op === 'eq') === (p.value === true || p.value === 1)
      return yes ? name : `not ${name}`
    }
    const vs = p.values ?? []
    switch (p.op) {
      case 'eq':
        return `${name} ${this.value(p.value)}`
      case 'ne':
        return `${name} other than ${this.value(p.value)}`
      case 'in':
        return `${name} ${vs.map((v) => this.value(v)).join(' or ')}`
      case 'not_in':
        return `${name} other than ${vs.map((v) => this.value(v)).join(' and ')}`
      case 'between':
        return f?.type === 'date' || f?.type === 'datetime'
          ? `${name} ${this.value(vs[0])} to ${this.value(vs[1])}`
          : `${name} between ${this.value(vs[0])} and ${this.value(vs[1])}`
      case 'gte':
        if (f?.type === 'date' || f?.type === 'datetime') return `${name} from ${this.value(p.value)}`
        return `${name} ${OPS[p.op]} ${this.value(p.value)}`
      case 'lte':
        if (f?.type === 'date' || f?.type === 'datetime') return `${name} up to ${this.value(p.value)}`
        return `${name} ${OPS[p.op]} ${this.value(p.value)}`
      case 'contains':
        return `${name} containing "${this.value(p.value)}"`
      case 'startswith':
        return `${name} starting with "${this.value(p.value)}"`
      case 'endswith':
        return `${name} ending with "${this.value(p.value)}"`
      case 'is_null':
        return `${name} empty`
      case 'not_null':
        return `${name} not empty`
      default:
        return `${name} ${OPS[p.op] ?? p.op} ${this.value(p.value)}`
    }
  }

  private havingName(alias: string): string {
    const m = this.plan.measures.find((x) => x.as === alias)
    return m ? this.measure(m).replace(/^[A-Z]/, (s) => s.toLowerCase()) : alias
  }

  private split(): { time: string[]; other: string[] } {
    const time: string[] = []
    const other: string[] = []
    const top = this.plan.filter
    const parts = !top ? [] : top.op === 'and' ? top.args : [top]
    for (const p of parts) {
      const isTime = 'field' in p && ['date', 'datetime'].includes(this.field(p.field).f?.type ?? '')
      const isTimeOr =
        p.op === 'or' &&
        p.args.every((a) => 'field' in a && ['date', 'datetime'].includes(this.field(a.field).f?.type ?? ''))
      ;(isTime || isTimeOr ? time : other).push(this.filter(p))
    }
    return { time, other }
  }

  private dims(list: QueryPlan['dimensions'] = this.plan.dimensions): string[] {
    const out: string[] = []
    const seen = new Set<string>()
    for (const d of list) {
      const { ds, f } = this.field(d.field)
      if (d.grain) out.push(d.grain)
      else if (ds && f && (ds.primaryKey.includes(f.name) || ds.labelColumns.includes(f.name))) {
        if (!seen.has(ds.name)) out.push(mid(ds.label))
        seen.add(ds.name)
      } else out.push(this.fieldName(d.field))
    }
    return out
  }

  describe(): string {
    const plan = this.plan
    const { time, other } = this.split()
    let head: string
    if (plan.measures.length > 0) {
      head = plan.measures
        .map((m, i) =>
          i === 0 ? this.measure(m) : this.measure(m).replace(/^[A-Z]/, (s) => s.toLowerCase()),
        )
        .join(' and ')
      if (plan.share) {
        const num = plan.share.numerator
        const mk = plan.share.market ? this.fieldName(plan.share.market.field) : undefined
        head = num
          ? `Share of ${mid(head)} that is ${this.filter(num)}, out of the total${mk ? ` of its market (the same ${mk})` : ''}`
          : mk
            ? `Share of ${mid(head)} out of the total of each group's market (the same ${mk})`
            : `Share of ${mid(head)} out of the total over all groups`
      }
      const r = plan.rollup
      if (r)
        head = `${AGG[r.aggregation] ?? r.aggregation} per ${this.dims(r.over).join(' and ')} of ${mid(head)}`
      const dims = this.dims()
      if (dims.length) head += ` by ${dims.join(' and ')}`
    } else {
      const firstRef = plan.select[0]?.field ?? `${plan.dataset}.x`
      const { ds, f } = this.field(firstRef)
      const entityCols = ds ? [...ds.primaryKey, ...ds.labelColumns] : []
      head =
        f && entityCols.includes(f.name) ? this.plural(ds) : `Distinct ${this.fieldName(firstRef)} values`
      head = head.charAt(0).toUpperCase() + head.slice(1)
    }
    let text = head
    const listing = plan.measures.length === 0
    if (other.length) text += ` ${listing ? 'with' : 'for'} ${other.join(', ')}`
    if (time.length) text += listing && !other.length ? ` with ${time.join(', ')}` : `, ${time.join(', ')}`
    if (plan.having) text += `, only where ${this.filter(plan.having, true)}`
    // the mean is over the units that have rows in scope, not over every HCP / week: say so
    if (plan.rollup?.aggregation === 'avg') {
      const per = this.dims(plan.rollup.over).join(' and ')
      text += `, counting only each ${per} with matching rows (not every ${per})`
    }
    for (const e of plan.exists ?? []) {
      const what = this.plural(this.ds(e.dataset))
      const CMP = {
        eq: 'exactly',
        ne: 'other than',
        gt: 'more than',
        gte: 'at least',
        lt: 'fewer than',
        lte: 'at most',
      }
      const how = e.count ? `${CMP[e.count.op]} ${e.count.value}` : e.negate ? 'no' : 'some'
      text += `, only those with ${how} ${what}${e.filter ? ` (${this.filter(e.filter)})` : ''}`
    }
    const ch = plan.change
    if (ch) {
      const grain = plan.dimensions.find((d) => d.as === ch.time)?.grain ?? 'period'
      const back =
        ch.step && ch.step > 1 ? `the ${grain} ${ch.step} ${grain}s earlier` : `the previous ${grain}`
      text += ch.lastOnly
        ? `, with the change (and % change) from the earlier ${grain} to the later`
        : `, with each ${grain}'s change (and % change) from ${back} over every ${grain} from the first to the last with rows (a ${grain} without rows counts as 0; the first ${ch.step && ch.step > 1 ? `${ch.step} ${grain}s have` : `${grain} has`} no earlier ${grain}, so ${ch.step && ch.step > 1 ? 'their' : 'its'} change is empty)`
    }
    const rw = plan.rankWithin
    if (rw) {
      const m = plan.measures.find((x) => x.as === rw.by)
      const by = m ? mid(this.measure(m)) : rw.by
      const groups = this.dims(plan.dimensions.filter((d) => rw.partitionBy.includes(d.as)))
      return `${text}, ${rw.direction === 'desc' ? 'top' : 'bottom'} ${rw.limit} by ${by} within each ${groups.join(' and ')}`
    }
    const first = plan.order[0]
    if (ch && first?.by.endsWith('_change')) {
      const word = first.direction === 'desc' ? 'largest' : 'smallest'
      return `${text}, ${word} change first${plan.limit ? `, ${plan.limit} rows` : ''}`
    }
    const ranked = first && (plan.measures.some((m) => m.as === first.by) || plan.limit !== null)
    if (first && !ranked) {
      const sel = plan.select.find((x) => x.as === first.by)
      const { ds, f } = sel ? this.field(sel.field) : {}
      const entityCol = !!ds && !!f && (ds.primaryKey.includes(f.name) || ds.labelColumns.includes(f.name))
      if (sel && !entityCol)
        text += `, sorted by ${this.fieldName(sel.field)} (${first.direction === 'desc' ? 'highest' : 'lowest'} first)`
    }
    if (first && ranked) {
      const m = plan.measures.find((x) => x.as === first.by)
      const by = m
        ? this.measure(m).replace(/^[A-Z]/, (s) => s.toLowerCase())
        : this.fieldName(plan.select.find((s) => s.as === first.by)?.field ?? first.by)
      const word = first.direction === 'desc' ? 'highest' : 'lowest'
      text +=
        plan.limit === 1
          ? `, the ${word} ${by} only`
          : plan.limit
            ? `, ${first.direction === 'desc' ? 'top' : 'bottom'} ${plan.limit} by ${by}`
            : `, ${word} ${by} first`
    }
    return text
  }
}

export function interpret(model: SemanticModel, plan: QueryPlan): string {
  const text = new Describer(model, plan).describe()
  // "NRx by rep": say how the rows reach the rep (its territory's rows, shared with its colleagues)
  const ds = (n: string) => model.datasets.find((d) => d.name === n)
  const notes = (plan.bridges ?? []).map(
    (b) =>
      `each ${ds(b.to.dataset)?.label ?? b.to.dataset} is credited with all ${ds(plan.dataset)?.pluralLabel ?? plan.dataset} of its ${ds(b.from.dataset)?.label ?? b.from.dataset}`,
  )
  return notes.length ? `${text}; ${notes.join('; ')}` : text
}
