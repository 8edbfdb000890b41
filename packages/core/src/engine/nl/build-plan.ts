import { datedBy, joinPath, reachableFrom } from '../model/join-graph.ts'
import type { Dataset, Field, SemanticModel } from '../model-types.ts'
import {
  type PlanBridge,
  type PlanDimension,
  type PlanFilter,
  type PlanMeasure,
  type QueryPlan,
  QueryPlanSchema,
  type Scalar,
  type TimeGrain,
} from '../plan.ts'
import { type Column, chooseRoot } from './choose-root.ts'
import type { CmpIntent, DimRef, Intent, MeasureRef } from './intent.ts'
import { ambiguous, unanswerable } from './refuse.ts'

/** Columns whose values do not add up (a price, a rate): an average of them is a row average. */
const NON_ADDITIVE = /price|rate|ratio|percent|pct|score|(^|_)age($|_)/i

/** How many `grain` periods back "over" one `over` period is: YoY by quarter = 4; undefined if not whole. */
function seriesStep(over: TimeGrain | undefined, grain: TimeGrain | undefined): number | undefined {
  if (!grain) return undefined
  if (!over || over === grain) return 1
  const months: Partial<Record<TimeGrain, number>> = { month: 1, quarter: 3, year: 12 }
  const a = months[over]
  const b = months[grain]
  if (!a || !b || a <= b || a % b !== 0) return undefined
  return a / b
}

/** Intent → QueryPlan: pick the FROM table, resolve columns, and lay out measures, dimensions, filters and order. */
class PlanBuilder {
  private readonly aliases = new Set<string>()
  private readonly measures: PlanMeasure[] = []
  private readonly measureAlias = new Map<string, string>()
  private readonly dims: PlanDimension[] = []
  private readonly filters: PlanFilter[] = []
  private readonly having: PlanFilter[] = []
  private root = ''
  /** "Average TRx per HCP": measures are totals per `over`, averaged by the rollup. */
  private rolled = false
  private readonly over: PlanDimension[] = []
  private readonly shareNum: PlanFilter[] = []
  /** Value filters that are neither a share's part nor its scope nor a comparison ("in the Northeast"). */
  private readonly plainValues: PlanFilter[] = []
  /** A value named the share's denominator ("share of hypothyroidism NRx"). */
  private scoped = false
  private bridges: PlanBridge[] = []
  /** The dataset the question's period applies to when the subject has no date ("HCPs with no calls in Q4"). */
  private periodOn: string | undefined
  /** "HCPs with at least 3 calls" as a correlated count. */
  private semi: NonNullable<QueryPlan['exists']> = []
  private existsList: NonNullable<QueryPlan['exists']> = []

  constructor(
    private readonly model: SemanticModel,
    private readonly intent: Intent,
  ) {}

  private ds(name: string): Dataset {
    const d = this.model.datasets.find((x) => x.name === name)
    if (!d) throw unanswerable(`Unknown dataset ${name}`)
    return d
  }

  private def(dataset: string, field: string): Field {
    const f = this.ds(dataset).fields.find((x) => x.name === field)
    if (!f) throw unanswerable(`Unknown field ${dataset}.${field}`)
    return f
  }

  private alias(base: string): string {
    let a = base.replace(/[^A-Za-z0-9_]/g, '_')
    let n = 2
    while (this.aliases.has(a)) a = `${base}_${n++}`
    this.aliases.add(a)
    return a
  }

  /** Columns that identify an entity in results: its unique label, else key + label columns. */
  entityColumns(name: string): string[] {
    const d = this.ds(name)
    const unique = d.labelColumns.find((c) => d.fields.find((f) => f.name === c)?.unique)
    if (unique) return [unique]
    return [...new Set([...d.primaryKey, ...d.labelColumns])]
  }

  /** The date a period applies to (see datedBy). */
  private timeField(explicit?: { dataset: string; field: string }): Column {
    if (explicit) return explicit
    const t = datedBy(this.model, this.root)
    if (!t) {
      const d = this.ds(this.root)
      throw unanswerable(`${d.pluralLabel ?? d.label} have no date to filter or group by.`)
    }
    return t
  }

  private addMeasure(ref: MeasureRef): string {
    const key = JSON.stringify(ref)
    const known = this.measureAlias.get(key)
    if (known) return known
    let m: PlanMeasure
    if (ref.kind === 'field') {
      const f = this.def(ref.dataset, ref.field)
      const agg = this.rolled ? (f.aggregation ?? 'sum') : (ref.agg ?? f.aggregation ?? 'sum')
      const as = this.alias(agg === (f.aggregation ?? 'sum') ? f.name : `${agg}_${f.name}`)
      m = { field: `${ref.dataset}.${ref.field}`, aggregation: agg, as }
    } else if (ref.kind === 'countField') {
      m = {
        field: `${ref.dataset}.${ref.field}`,
        aggregation: 'count_distinct',
        as: this.alias(`${ref.field}_count`),
      }
    } else if (ref.dataset === this.root) {
      m = { field: `${ref.dataset}.*`, aggregation: 'count', as: this.alias(`${ref.dataset}_count`) }
    } else {
      const path = joinPath(this.model, this.root, ref.dataset)
      const last = path?.at(-1)
      if (!last?.from.columns[0]) throw unanswerable(`I can't count ${ref.dataset} from ${this.root}.`)
      m = {
        field: `${last.from.dataset}.${last.from.columns[0]}`,
        aggregation: 'count_distinct',
        as: this.alias(`${ref.dataset}_count`),
      }
    }
    this.measures.push(m)
    this.measureAlias.set(key, m.as)
    return m.as
  }

  private addDim(d: DimRef): void {
    if (d.kind === 'entity') {
      for (const c of this.entityColumns(d.dataset)) {
        const field = `${d.dataset}.${c}`
        if (!this.dims.some((x) => x.field === field && !x.grain))
          this.dims.push({ field, as: this.alias(c) })
      }
    } else if (d.kind === 'field') {
      const field = `${d.dataset}.${d.field}`
      if (!this.dims.some((x) => x.field === field && !x.grain))
        this.dims.push({ field, as: this.alias(d.field) })
    } else {
      const tf = this.timeField(d.field)
      const field = `${tf.dataset}.${tf.field}`
      if (!this.dims.some((x) => x.field === field && x.grain === d.grain))
        this.dims.push({ field, grain: d.grain, as: this.alias(d.grain) })
    }
  }

  private cmpFilter(field: string, c: CmpIntent): PlanFilter {
    if (c.op === 'between') return { op: 'between', field, values: c.values }
    return { op: c.op, field, value: c.values[0] ?? 0 }
  }

  private valueFilters(columns: Column[]): void {
    this.intent.values.forEach((g, k) => {
      const col = columns[k] as Column
      const f = this.def(col.dataset, col.field)
      const values: Scalar[] = []
      for (const v of g.values) {
        const c = v.cands.find(
          (x) =>
            x.concept.type === 'value' && x.concept.dataset === col.dataset && x.concept.field === col.field,
        )
        if (c?.concept.type === 'value')
          values.push(f.type === 'boolean' ? Boolean(c.concept.value) : c.concept.value)
      }
      const field = `${col.dataset}.${col.field}`
      const uniq = [...new Set(values)]
      // "Synthroid share of NRx", "came from Medicare": the part's values filter the share; every
      // other value ("in the Northeast") filters both the part and the whole. "Market share of
      // Tirosint": a value of the market's dataset other than the market itself, right after
      // "share of", is the part (where "hypothyroidism" would name the market)
      const owner = this.intent.share?.market ? this.ds(col.dataset) : undefined
      const marketPart = !!(g.shareScope && owner?.market && owner.market !== col.field)
      const scope = !!g.shareScope && !marketPart
      if (scope) this.scoped = true
      const into =
        this.intent.share && (g.sharePart || marketPart) && !scope && !g.compare
          ? this.shareNum
          : this.filters
      if (f.type === 'boolean' && uniq.length === 1)
        into.push({ op: 'eq', field, value: g.negate ? !uniq[0] : (uniq[0] as boolean) })
      else if (uniq.length === 1) into.push({ op: g.negate ? 'ne' : 'eq', field, value: uniq[0] as Scalar })
      else into.push({ op: g.negate ? 'not_in' : 'in', field, values: uniq })
      if (into === this.filters && !scope && !g.compare) this.plainValues.push(into.at(-1) as PlanFilter)
      if (g.compare && !g.negate) this.addDim({ kind: 'field', dataset: col.dataset, field: col.field })
    })
  }

  private timeFilters(): void {
    if (this.periodOn) return
    for (const t of this.intent.times) {
      const tf = this.timeField(t.field)
      const field = `${tf.dataset}.${tf.field}`
      const { start, end } = t.range
      if (start && end) this.filters.push({ op: 'between', field, values: [start, end] })
      else if (start) this.filters.push({ op: 'gte', field, value: start })
      else if (end) this.filters.push({ op: 'lte', field, value: end })
    }
    if (this.intent.times.length > 1) {
      // several periods of one unit ("2023 vs 2024", "Q3 and Q4"): one range covering them
      const own = this.filters.splice(this.filters.length - this.intent.times.length)
      const byField = new Map<string, PlanFilter[]>()
      for (const f of own) if ('field' in f) byField.set(f.field, [...(byField.get(f.field) ?? []), f])
      for (const fs of byField.values())
        this.filters.push(fs.length > 1 ? { op: 'or', args: fs } : (fs[0] as PlanFilter))
    }
  }

  private defaultGrain(): TimeGrain {
    const r = this.intent.times[0]?.range
    if (r?.start && r.end) {
      const days = (Date.parse(r.end) - Date.parse(r.start)) / 86_400_000
      if (days <= 92) return 'week'
    }
    return 'month'
  }

  build(): QueryPlan {
    const intent = this.intent
    const subject = intent.subject
    // "TRx quarter over quarter": grouped by quarter unless a period grain is asked ("YoY by quarter")
    const over = intent.change?.over
    if (over && !intent.timeCompare && !intent.dims.some((d) => d.kind === 'grain'))
      intent.dims.push({ kind: 'grain', grain: over })
    // a measure compared per entity ("HCPs with TRx above 100") is an aggregate comparison
    for (const c of intent.cmps) {
      if (c.target.form !== 'column') continue
      const f = this.def(c.target.dataset, c.target.field)
      if (f.kind === 'measure' && subject && c.target.dataset !== subject.dataset)
        c.target = {
          form: 'agg',
          measure: { kind: 'field', dataset: c.target.dataset, field: c.target.field },
        }
    }
    const refs: MeasureRef[] = [...intent.measures]
    this.relatedCounts(refs)
    // "number of reps by region with more than 900 calls": the calls are each rep's, not each
    // region's; when that per-entity count could not be built, a HAVING on the group would misread it
    const countsSubject = subject && refs.some((r) => r.kind === 'count' && r.dataset === subject.dataset)
    const perEntity = intent.cmps.find(
      (c) =>
        c.target.form === 'agg' &&
        c.target.measure.kind === 'count' &&
        c.target.measure.dataset !== subject?.dataset,
    )
    if (countsSubject && perEntity?.target.form === 'agg') {
      const each = this.ds(subject.dataset).pluralLabel
      const rows = this.ds(perEntity.target.measure.dataset).pluralLabel
      throw ambiguous(
        `I can only count ${each} by how many ${rows} each has when nothing else is grouped or dated; ask for the list instead, e.g. "${each} with ${perEntity.text} ${rows}".`,
      )
    }
    const addRef = (r: MeasureRef) => {
      if (!refs.some((x) => JSON.stringify(x) === JSON.stringify(r))) refs.push(r)
    }
    for (const c of intent.cmps) if (c.target.form === 'agg') addRef(c.target.measure)
    if (intent.order?.measure) addRef(intent.order.measure)
    const grouping =
      intent.dims.length > 0 ||
      intent.trend ||
      !!intent.timeCompare ||
      intent.values.some((g) => g.compare) ||
      (refs.length > 0 && intent.selects.length > 0)
    let mode: 'aggregate' | 'list' | 'distinct'
    const counted = (d: string) => refs.some((r) => r.kind === 'count' && r.dataset === d)
    // "top 3 prescribers per territory": the subject is ranked within each group, not overall
    const wf = intent.whichField
    const groupDims = intent.dims.filter(
      (d) =>
        !(d.kind === 'field' && wf && d.dataset === wf.dataset && d.field === wf.field) &&
        !(d.kind === 'entity' && d.dataset === subject?.dataset),
    )
    const perGroupTop =
      !!subject &&
      (subject.how === 'top' || subject.how === 'which') &&
      intent.order?.limit !== undefined &&
      !intent.order.dim &&
      groupDims.length > 0 &&
      !counted(subject.dataset)
    // "fastest-growing territories", "quarter over quarter change": growth of the model's default
    // measure (the interpretation names it)
    // ("monthly change in calls": a dated subject is counted instead, below)
    if (
      intent.change &&
      refs.length === 0 &&
      (subject ? !datedBy(this.model, subject.dataset) : !intent.whichField)
    ) {
      const dm = this.model.defaultMeasure?.split('.')
      if (!dm?.[0] || !dm[1]) throw ambiguous('Growth of what? Name a measure.')
      refs.push({ kind: 'field', dataset: dm[0], field: dm[1] })
    }
    if (perGroupTop && intent.order && !intent.order.measure && refs.length === 0) {
      const dm = this.model.defaultMeasure?.split('.')
      if (!dm?.[0] || !dm[1])
        throw ambiguous(`Rank ${this.ds(subject.dataset).pluralLabel} by what? Name a measure.`)
      intent.order.measure = { kind: 'field', dataset: dm[0], field: dm[1] }
      refs.push(intent.order.measure)
    }
    // "market share of Tirosint": the share of the model's default measure
    if (intent.share?.market && refs.length === 0) {
      const dm = this.model.defaultMeasure?.split('.')
      if (dm?.[0] && dm[1]) refs.push({ kind: 'field', dataset: dm[0], field: dm[1] })
    }
    if (refs.length > 0) mode = 'aggregate'
    else if (subject && grouping) {
      refs.push({ kind: 'count', dataset: subject.dataset })
      mode = 'aggregate'
    } else if (subject && intent.order && !intent.order.dim) {
      const dm = this.model.defaultMeasure?.split('.')
      if (!dm?.[0] || !dm[1])
        throw ambiguous(`Rank ${this.ds(subject.dataset).pluralLabel} by what? Name a measure.`)
      refs.push({ kind: 'field', dataset: dm[0], field: dm[1] })
      intent.order.measure = refs[0]
      mode = 'aggregate'
    } else if (subject) mode = 'list'
    else if (intent.whichField) mode = 'distinct'
    else if (intent.selects.length > 0 && intent.dims.length === 0) {
      const s = intent.selects[0] as Column
      intent.whichField = s
      mode = 'distinct'
    } else
      throw unanswerable(
        'What would you like to know? Name a measure (e.g. a total or a count) or what to list.',
      )

    const fieldMeasureDs = [...new Set(refs.filter((r) => r.kind === 'field').map((r) => r.dataset))]
    if (fieldMeasureDs.length > 1)
      throw unanswerable(
        `${fieldMeasureDs.map((d) => this.ds(d).pluralLabel).join(' and ')} measures come from different tables; ask for them separately.`,
      )
    let fixed = fieldMeasureDs[0]
    // "top 10 products by list price": rank rows of the entity itself
    if (
      mode === 'aggregate' &&
      subject &&
      fixed === subject.dataset &&
      !counted(subject.dataset) &&
      intent.dims.length === 0 &&
      !grouping &&
      refs.every((r) => r.kind === 'field')
    ) {
      mode = 'list'
    }
    const subjectIsDim =
      mode === 'aggregate' && subject && !counted(subject.dataset) && subject.dataset !== fixed
    const dimRefs: DimRef[] = [
      ...(subjectIsDim && subject ? [{ kind: 'entity' as const, dataset: subject.dataset }] : []),
      ...intent.dims,
    ]
    if (mode === 'aggregate') for (const s of intent.selects) dimRefs.push({ kind: 'field', ...s })

    const required = new Set<string>([...intent.verbs, ...intent.qualifiers])
    if (subject) required.add(subject.dataset)
    for (const r of refs) required.add(r.dataset)
    for (const d of dimRefs) {
      if (d.kind === 'grain') {
        if (d.field) required.add(d.field.dataset)
      } else required.add(d.dataset)
    }
    for (const c of intent.cmps)
      required.add(c.target.form === 'column' ? c.target.dataset : c.target.measure.dataset)
    for (const t of intent.times) if (t.field) required.add(t.field.dataset)
    // a listed extra column must be reachable from the FROM table too ("HCPs and their reps' hire dates")
    for (const s of intent.selects) required.add(s.dataset)
    if (mode === 'distinct' && intent.whichField) required.add(intent.whichField.dataset)
    const needsTime =
      (!this.periodOn && intent.times.some((t) => !t.field)) ||
      dimRefs.some((d) => d.kind === 'grain' && !d.field) ||
      intent.trend ||
      !!intent.timeCompare
    const anchor =
      fixed ?? refs.find((r) => r.kind === 'count')?.dataset ?? subject?.dataset ?? intent.whichField?.dataset
    if (mode === 'list' && subject) fixed = undefined
    // a grouped entity ("by rep") may join one-to-many through a bridge dimension
    const bridgeable = new Set(
      mode === 'aggregate' ? dimRefs.flatMap((d) => (d.kind === 'entity' ? [d.dataset] : [])) : [],
    )
    const { root, columns, bridges } = chooseRoot(
      this.model,
      intent,
      required,
      anchor,
      fixed,
      needsTime,
      bridgeable,
    )
    this.root = root
    this.bridges = bridges
    if (this.semi.length && root !== intent.subject?.dataset)
      throw ambiguous(
        `I can only count ${this.ds(intent.subject?.dataset ?? root).pluralLabel} by how many ${this.ds(this.semi[0]?.dataset ?? root).pluralLabel} they had without further conditions on those; ask for the list instead.`,
      )
    // "HCPs who wrote no Tirosint" is an anti-join: excluding rows of a linking fact would answer
    // "HCPs who wrote something other than Tirosint" instead, so refuse rather than mislead.
    const entities = [
      ...(mode !== 'aggregate' && subject ? [subject.dataset] : []),
      ...refs.filter((r) => r.kind === 'count' && r.dataset !== root).map((r) => r.dataset),
    ].filter((e) => e !== root)
    intent.values.forEach((g, k) => {
      const col = columns[k]
      if (!g.negate || !col) return
      for (const e of entities)
        if (!reachableFrom(this.model, e).has(col.dataset))
          throw ambiguous(
            `I can't yet answer which ${this.ds(e).pluralLabel} have no "${g.values.map((v) => v.text).join(', ')}"; ask for those that do.`,
          )
    })

    this.existsList = [...this.absentRows(mode), ...this.semi]
    if (mode === 'list' && subject) return this.listPlan(subject.dataset, columns)
    if (mode === 'distinct' && intent.whichField) return this.distinctPlan(intent.whichField, columns)

    // "average TRx per HCP", "average weekly NRx": the mean of per-X totals, not of rows
    const perRefs = dimRefs.filter((d) => d.per)
    const additiveAvg = (r: MeasureRef) =>
      r.kind === 'field' &&
      r.agg === 'avg' &&
      (this.def(r.dataset, r.field).aggregation ?? 'sum') === 'sum' &&
      !NON_ADDITIVE.test(r.field)
    if (perRefs.length > 0 && refs.some(additiveAvg)) {
      if (!refs.every(additiveAvg))
        throw ambiguous('Ask for the average of per-group totals on its own, without other measures.')
      // "per HCP", "per week" name a unit to total over; "per region" could also mean the average
      // record in each region, so it is refused rather than guessed
      const plain = perRefs.find((d) => d.kind === 'field')
      if (plain?.kind === 'field')
        throw ambiguous(
          `"Average … per ${this.def(plain.dataset, plain.field).label}" could be the average of each one's total or the average record in each; ask for "total … by ${this.def(plain.dataset, plain.field).label}" or name an entity or a period.`,
        )
      this.rolled = true
    }
    const partition: string[] = []
    for (const d of dimRefs) {
      const at = this.dims.length
      this.addDim(d)
      if (this.rolled && d.per) this.over.push(...this.dims.splice(at))
      else if (groupDims.includes(d)) partition.push(...this.dims.slice(at).map((x) => x.as))
    }
    if (perGroupTop && (!subjectIsDim || this.rolled || partition.length === 0))
      throw ambiguous(
        `I can't yet rank ${this.ds(subject.dataset).pluralLabel} within each group for this question; ask for one group at a time.`,
      )
    this.valueFilters(columns)
    if (intent.trend && !this.dims.some((d) => d.grain))
      this.addDim({ kind: 'grain', grain: this.defaultGrain() })
    if (intent.timeCompare && !this.dims.some((d) => d.grain))
      this.addDim({ kind: 'grain', grain: intent.timeCompare })
    for (const r of refs) this.addMeasure(r)
    this.timeFilters()
    for (const c of intent.cmps) {
      const t = c.target
      // "TRx by region for regions with TRx above 50000": the grouped total is compared, not each row
      if (t.form === 'column' && this.dims.length > 0 && this.def(t.dataset, t.field).kind === 'measure') {
        if (!this.measures.some((m) => m.field === `${t.dataset}.${t.field}` && m.aggregation === 'sum'))
          throw ambiguous(
            `Is "${c.text}" about each record or each group's total? Ask e.g. "regions with total TRx above 50000".`,
          )
        c.target = { form: 'agg', measure: { kind: 'field', dataset: t.dataset, field: t.field } }
      }
      if (c.target.form === 'agg') this.having.push(this.cmpFilter(this.addMeasure(c.target.measure), c))
      else this.filters.push(this.cmpFilter(`${c.target.dataset}.${c.target.field}`, c))
    }
    if (this.having.length > 0 && this.dims.length === 0)
      throw ambiguous(
        'A comparison like "more than 100" needs something to compare per (e.g. "reps with more than 100 calls").',
      )

    const order: QueryPlan['order'] = []
    let limit: number | null = null
    let rankWithin: QueryPlan['rankWithin']
    const o = intent.order
    if (o) {
      const target = o.measure
        ? this.addMeasure(o.measure)
        : o.dim
          ? this.dims.find((d) => d.field === `${o.dim?.dataset}.${o.dim?.field}`)?.as
          : this.measures[0]?.as
      if (this.dims.length === 0 && !o.dim) {
        // "the highest list price" with nothing to rank: the max/min itself
        const m = this.measures.find((x) => x.as === target)
        if (o.ranking || !m || m.aggregation === 'count' || m.aggregation === 'count_distinct')
          throw ambiguous('Rank what? Say what to compare, e.g. "which region had the most TRx".')
        if (!intent.measures.some((r) => r.kind === 'field' && r.agg))
          m.aggregation = o.dir === 'desc' ? 'max' : 'min'
      } else if (target && perGroupTop && o.limit !== undefined) {
        rankWithin = { partitionBy: partition, by: target, direction: o.dir, limit: o.limit }
        for (const a of partition) order.push({ by: a, direction: 'asc' })
        order.push({ by: target, direction: o.dir })
      } else if (target) {
        order.push({ by: target, direction: o.dir })
        limit = o.limit ?? null
      }
    }
    let share: QueryPlan['share']
    if (intent.share) {
      // "percent of TRx in the Northeast": no part word and nothing grouped — the one value named is
      // the part, of the whole the other filters (periods) keep; with a scope value too ("share of
      // Tirosint TRx in the Northeast") either could be the part, so that stays refused below, and
      // the same goes for two values ("percent of NRx in Texas for Synthroid": Texas of Synthroid?)
      const [only] = this.plainValues
      if (
        only &&
        this.plainValues.length === 1 &&
        !this.shareNum.length &&
        !this.dims.length &&
        !this.scoped &&
        !intent.share.market
      ) {
        this.filters.splice(this.filters.indexOf(only), 1)
        this.shareNum.push(only)
      }
      const num = this.combine(this.shareNum)
      const countsDistinct = this.measures.some((m) => m.aggregation !== 'sum' && m.aggregation !== 'count')
      if (countsDistinct || this.rolled || rankWithin || intent.change)
        throw ambiguous('I can only take shares of totals and counts; ask for the totals instead.')
      if (!num && this.dims.length === 0)
        throw ambiguous(
          'Share of what? Name the part (e.g. "Tirosint share of TRx") or group (e.g. "share of TRx by product").',
        )
      share = num ? { numerator: num } : {}
      if (intent.share.market && !this.scoped) share.market = this.market(num)
    }
    let change: QueryPlan['change']
    if (intent.change) {
      const grains = this.dims.filter((d) => d.grain)
      if (this.rolled || rankWithin || grains.length !== 1 || !grains[0])
        throw ambiguous(
          'Change between which periods? Say e.g. "quarter over quarter", "by month" or "Q4 2024 vs Q3 2024".',
        )
      if (this.having.length > 0)
        throw ambiguous("I can't yet filter a change by totals; ask for the change on its own.")
      if (intent.timeCompare) {
        // "Q4 2024 vs Q3 2024": exactly those two periods
        const periods = this.changePeriods(grains[0].grain)
        if (!periods)
          throw ambiguous('Change between which two periods? Name both, e.g. "TRx Q4 2024 vs Q3 2024".')
        change = { time: grains[0].as, lastOnly: true, periods }
      } else {
        // "quarter over quarter", "monthly change": every period against the one before it (or
        // `step` before: "YoY by quarter"), over a dense calendar of periods
        const step = seriesStep(intent.change.over, grains[0].grain)
        if (step === undefined)
          throw ambiguous(
            `Compare each ${grains[0].grain} with which earlier period? Ask e.g. "${intent.change.over ?? 'quarter'} over ${intent.change.over ?? 'quarter'} change".`,
          )
        change = { time: grains[0].as, lastOnly: false, ...(step > 1 ? { step } : {}) }
      }
      const rank = intent.change.rank
      // "fastest-growing territories QoQ": a series has a change per territory AND quarter; which
      // quarter is meant is not said, so only a series of periods alone is ranked ("which month grew most")
      if ((rank || o) && !change.periods && this.dims.length > 1)
        throw ambiguous(
          'Rank the change between which two periods? Name both, e.g. "fastest-growing territories Q4 2024 vs Q3 2024".',
        )
      // "highest percent growth", "fastest-growing": rank by the change (in percent when asked)
      if (rank || o) {
        const by = (o?.measure && this.addMeasure(o.measure)) || this.measures[0]?.as
        if (!by) throw ambiguous('Rank the change in what? Name a measure.')
        order.length = 0
        order.push({
          by: `${by}${intent.change.pct ? '_pct_change' : '_change'}`,
          direction: rank ?? o?.dir ?? 'desc',
        })
        limit = o?.limit ?? intent.change.limit ?? null
      }
    }
    // Ranked answers keep the database's own order among ties (as a hand-written ORDER BY … LIMIT
    // would); otherwise rows come in dimension order, time first.
    if (order.length === 0) {
      const timeDims = this.dims.filter((d) => d.grain)
      for (const d of [...timeDims, ...this.dims.filter((x) => !x.grain)])
        order.push({ by: d.as, direction: 'asc' })
    }

    // a bridged entity repeats the fact rows once per entity: each group must hold one of them
    for (const b of this.bridges) {
      const e = this.ds(b.to.dataset)
      const keyed = e.primaryKey.every((k) => this.dims.some((d) => d.field === `${e.name}.${k}` && !d.grain))
      if (!keyed || this.rolled || (share && !share.numerator))
        throw ambiguous(
          `${e.pluralLabel} reach these rows through a shared ${this.ds(b.from.dataset).label}, so I can only give totals per ${e.label}; ask e.g. "… by ${e.label}".`,
        )
    }
    if (this.rolled && this.having.length > 0)
      throw ambiguous("I can't yet filter averages of per-group totals; ask for the totals instead.")
    return QueryPlanSchema.parse({
      dataset: root,
      measures: this.measures,
      dimensions: this.dims,
      filter: this.combine(this.filters),
      having: this.combine(this.having),
      order,
      limit,
      ...(this.rolled ? { rollup: { over: this.over, aggregation: 'avg' } } : {}),
      ...(rankWithin ? { rankWithin } : {}),
      ...(change ? { change } : {}),
      ...(share ? { share } : {}),
      ...(this.existsList.length ? { exists: this.existsList } : {}),
      ...(this.bridges.length ? { bridges: this.bridges } : {}),
    })
  }

  /**
   * "How many HCPs had at least 3 calls": the subject is counted, and a count of its rows in a related
   * dataset is compared with a number — a correlated count per subject row, not a HAVING over one
   * group. "Number of HCPs with no calls in Q4 2024": the subject has no date, so the period is the
   * related rows'. Both only when nothing else (groups, other measures, verbs) is asked.
   */
  private relatedCounts(refs: MeasureRef[]): void {
    const intent = this.intent
    const e = intent.subject?.dataset
    // "number of HCPs in each territory with at least 5 calls": groups of the subject are fine (the
    // count is per subject row either way); a period grain is not
    const grained = intent.dims.some((d) => d.kind === 'grain')
    if (!e || grained || intent.trend || intent.timeCompare || intent.verbs.length) return
    if (datedBy(this.model, e)) return
    const pk = this.ds(e).primaryKey
    const onlyCount = refs.length === 1 && refs[0]?.kind === 'count' && refs[0].dataset === e
    const fkTo = (f: string) =>
      this.model.joins.find((j) => j.from.dataset === f && j.to.dataset === e && j.from.columns.length === 1)
    const c = intent.cmps[0]
    if (
      onlyCount &&
      pk.length === 1 &&
      intent.cmps.length === 1 &&
      intent.absent.length === 0 &&
      c?.target.form === 'agg' &&
      c.op !== 'between' &&
      c.target.measure.kind === 'count' &&
      c.target.measure.dataset !== e &&
      typeof c.values[0] === 'number'
    ) {
      const f = c.target.measure.dataset
      const fk = fkTo(f)
      const period = intent.times.length === 1 && !intent.times[0]?.field
      if (!fk || (intent.times.length > 0 && !period)) return
      intent.cmps.length = 0
      if (period) this.periodOn = f
      this.semi.push({
        dataset: f,
        negate: false,
        link: { field: `${f}.${fk.from.columns[0]}`, outer: `${e}.${pk[0]}` },
        filter: period ? this.periodFilter(f) : null,
        count: { op: c.op, value: c.values[0] },
      })
      return
    }
    const a = intent.absent[0]
    if (
      intent.absent.length === 1 &&
      a &&
      !a.sameTime &&
      intent.times.length === 1 &&
      !intent.times[0]?.field
    )
      this.periodOn = a.dataset
  }

  /** The period filter on a related dataset's own date (moved there by `relatedCounts`). */
  private periodFilter(dataset: string): PlanFilter | null {
    const tf = datedBy(this.model, dataset)
    const r = this.intent.times[0]?.range
    if (!tf || tf.dataset !== dataset || !r?.start || !r.end)
      throw ambiguous('Which period? Give one with a start and an end, e.g. "in Q4 2024".')
    return { op: 'between', field: `${dataset}.${tf.field}`, values: [r.start, r.end] }
  }

  /** The two periods of "A vs B" as bucket keys [earlier, later], when each is exactly one bucket. */
  private changePeriods(grain: TimeGrain | undefined): [string, string] | undefined {
    const ranges = this.intent.times.map((t) => t.range)
    if (ranges.length !== 2 || !grain) return undefined
    const key = (d: string): string | undefined => {
      const [y, m] = d.split('-')
      if (grain === 'year') return `${y}-01-01`
      if (grain === 'month') return `${y}-${m}-01`
      if (grain === 'quarter')
        return `${y}-${String(Math.floor((Number(m) - 1) / 3) * 3 + 1).padStart(2, '0')}-01`
      return undefined
    }
    const keys: string[] = []
    for (const r of ranges) {
      if (!r.start || !r.end) return undefined
      const k = key(r.start)
      if (!k || k !== r.start || key(r.end) !== k) return undefined
      keys.push(k)
    }
    const [a, b] = keys.sort() as [string, string]
    return a === b ? undefined : [a, b]
  }

  /** Anti-joins for "… had no calls": linked by the absent dataset's key to the subject entity. */
  private absentRows(mode: string): NonNullable<QueryPlan['exists']> {
    const out: NonNullable<QueryPlan['exists']> = []
    for (const a of this.intent.absent) {
      const e = this.intent.subject?.dataset
      const refuse = () =>
        ambiguous(`I can't tell whose "${a.text}" you mean; ask e.g. "HCPs with no calls in 2024".`)
      if (!e || mode === 'distinct' || reachableFrom(this.model, this.root).has(a.dataset)) throw refuse()
      const fk = this.model.joins.find(
        (j) => j.from.dataset === a.dataset && j.to.dataset === e && j.from.columns.length === 1,
      )
      const pk = this.ds(e).primaryKey
      let outer: string | undefined
      if (this.root === e && pk.length === 1) outer = `${e}.${pk[0]}`
      else {
        const last = joinPath(this.model, this.root, e)?.at(-1)
        if (last?.from.columns.length === 1) outer = `${last.from.dataset}.${last.from.columns[0]}`
      }
      if (!fk || !outer) throw refuse()
      const filters: PlanFilter[] = []
      for (const v of a.values) {
        const c = v.cands.find((x) => x.concept.type === 'value' && x.concept.dataset === a.dataset)
        if (c?.concept.type !== 'value') throw refuse()
        filters.push({ op: 'eq', field: `${a.dataset}.${c.concept.field}`, value: c.concept.value })
      }
      if (a.sameTime || this.periodOn === a.dataset) {
        const tf = datedBy(this.model, a.dataset)
        const ranges = this.intent.times.map((t) => t.range).filter((r) => r.start && r.end)
        if (!tf || tf.dataset !== a.dataset || ranges.length !== 1) throw refuse()
        const r = ranges[0]
        if (r?.start && r.end)
          filters.push({ op: 'between', field: `${a.dataset}.${tf.field}`, values: [r.start, r.end] })
      }
      out.push({
        dataset: a.dataset,
        negate: true,
        link: { field: `${a.dataset}.${fk.from.columns[0]}`, outer },
        filter: this.combine(filters),
      })
    }
    return out
  }

  /**
   * The market of "market share" from the model (a dataset's `market` column): with a numerator
   * ("market share of Tirosint") the numerator may only name rows of that dataset; without one
   * ("market share by product") a dimension of that dataset is the part and the market column joins
   * the dimensions. No market in the model (or none the question reaches): refused.
   */
  private market(num: PlanFilter | null): NonNullable<QueryPlan['share']>['market'] {
    const reach = reachableFrom(this.model, this.root)
    const owner = this.model.datasets.find((d) => d.market && reach.has(d.name))
    const refuse = () =>
      ambiguous(
        'Market share within which market? Name it, e.g. "share of hypothyroidism NRx" (the therapeutic area).',
      )
    if (!owner?.market) throw refuse()
    const field = `${owner.name}.${owner.market}`
    // "market share of Tirosint vs Synthroid": a row filter on products would shrink the market
    // (the denominator) to the products named; refuse rather than divide by part of the market
    const filtered: string[] = []
    const collect = (f: PlanFilter): void => {
      if ('args' in f) f.args.forEach(collect)
      else if ('arg' in f) collect(f.arg)
      else filtered.push(f.field)
    }
    this.filters.forEach(collect)
    if (filtered.some((r) => r.startsWith(`${owner.name}.`) && r !== field))
      throw ambiguous(
        `A market share is out of the whole market, so I can't also narrow ${owner.pluralLabel}; ask e.g. "market share by ${owner.label}".`,
      )
    if (num) {
      const refs: string[] = []
      const walk = (f: PlanFilter): void => {
        if ('args' in f) f.args.forEach(walk)
        else if ('arg' in f) walk(f.arg)
        else refs.push(f.field)
      }
      walk(num)
      if (refs.some((r) => !r.startsWith(`${owner.name}.`) || r === field)) throw refuse()
      return { field }
    }
    if (!this.dims.some((d) => d.field.startsWith(`${owner.name}.`) && d.field !== field)) throw refuse()
    this.addDim({ kind: 'field', dataset: owner.name, field: owner.market })
    const as = this.dims.find((d) => d.field === field && !d.grain)?.as
    return as ? { field, as } : { field }
  }

  private combine(fs: PlanFilter[]): PlanFilter | null {
    if (fs.length === 0) return null
    return fs.length === 1 ? (fs[0] as PlanFilter) : { op: 'and', args: fs }
  }

  private listPlan(entity: string, columns: Column[]): QueryPlan {
    const intent = this.intent
    const select: { field: string; as: string }[] = []
    const add = (dataset: string, field: string) => {
      const ref = `${dataset}.${field}`
      if (!select.some((s) => s.field === ref)) select.push({ field: ref, as: this.alias(field) })
    }
    for (const c of this.entityColumns(entity)) add(entity, c)
    for (const s of intent.selects) add(s.dataset, s.field)
    // "reps hired after 2020": show the date the rows were picked by
    for (const t of intent.times) if (t.field) add(t.field.dataset, t.field.field)
    this.valueFilters(columns)
    this.timeFilters()
    for (const c of intent.cmps) {
      if (c.target.form !== 'column') throw ambiguous(`I can't compare "${c.text}" while listing rows.`)
      add(c.target.dataset, c.target.field)
      this.filters.push(this.cmpFilter(`${c.target.dataset}.${c.target.field}`, c))
    }
    const order: QueryPlan['order'] = []
    const o = intent.order
    const om = o?.measure
    if (om?.kind === 'field') {
      add(om.dataset, om.field)
      const s = select.find((x) => x.field === `${om.dataset}.${om.field}`)
      if (s && o) order.push({ by: s.as, direction: o.dir })
    } else if (o?.dim) {
      const od = o.dim
      add(od.dataset, od.field)
      const s = select.find((x) => x.field === `${od.dataset}.${od.field}`)
      if (s) order.push({ by: s.as, direction: o.dir })
    }
    for (const s of select.slice(0, this.entityColumns(entity).length))
      if (!order.some((x) => x.by === s.as)) order.push({ by: s.as, direction: 'asc' })
    return QueryPlanSchema.parse({
      dataset: this.root,
      select,
      filter: this.combine(this.filters),
      order,
      limit: o?.limit ?? null,
      distinct: this.root !== entity || intent.distinct,
      ...(this.existsList.length ? { exists: this.existsList } : {}),
    })
  }

  private distinctPlan(col: Column, columns: Column[]): QueryPlan {
    const as = this.alias(col.field)
    this.valueFilters(columns)
    this.timeFilters()
    for (const c of this.intent.cmps) {
      if (c.target.form !== 'column') throw ambiguous(`I can't compare "${c.text}" while listing values.`)
      this.filters.push(this.cmpFilter(`${c.target.dataset}.${c.target.field}`, c))
    }
    return QueryPlanSchema.parse({
      dataset: this.root,
      select: [{ field: `${col.dataset}.${col.field}`, as }],
      filter: this.combine(this.filters),
      order: [{ by: as, direction: 'asc' }],
      distinct: true,
    })
  }
}

export function buildPlan(intent: Intent, model: SemanticModel): QueryPlan {
  return new PlanBuilder(model, intent).build()
}
