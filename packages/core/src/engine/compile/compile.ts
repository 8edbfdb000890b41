import type { Knex } from 'knex'
import type { Dialect } from '../../db/index.ts'
import { HubError } from '../../errors.ts'
import { type JoinStep, joinPath } from '../model/join-graph.ts'
import type { Dataset, Field, SemanticModel } from '../model-types.ts'
import type {
  PlanChange,
  PlanExists,
  PlanFilter,
  PlanMeasure,
  PlanRankWithin,
  PlanRollup,
  PlanShare,
  QueryPlan,
  Scalar,
} from '../plan.ts'
import { QueryPlanSchema } from '../plan.ts'
import { applyRowScope, type RowScopes } from '../policy.ts'
import type { ResultColumn, ResultColumnType } from '../results.ts'
import { changeSeries, ZERO_WHEN_EMPTY } from './change-series.ts'
import { jsonRowsSelect } from './json-rows.ts'
import { bucketSql, grainRank, placeholders } from './time-bucket.ts'

/**
 * QueryPlan → parameterised SQL through knex, per dialect. Identifiers come from the model only
 * (bound with `??`), values are bindings. Every table in FROM/JOIN gets the principal's row scope.
 */
export interface CompiledQuery {
  sql: string
  bindings: readonly unknown[]
  columns: ResultColumn[]
  /**
   * Set when the rows come as JSON text (`CompileOptions.json`, see json-rows.ts): the first column
   * holds each row's object, the others are the order columns. `text`: rows may need the escape check.
   */
  json?: { text: boolean }
}

export interface CompileOptions {
  /**
   * Read plain rows as one JSON object per row, of these output names in this order, when the
   * dialect and every column allow (json-rows.ts); otherwise the plan compiles as usual.
   */
  json?: readonly string[]
}

interface Frag {
  sql: string
  b: Knex.RawBinding[]
}

type LeafFilter = Extract<PlanFilter, { field: string }>

const AGG_LABEL: Record<string, string> = {
  sum: 'Total',
  avg: 'Average',
  min: 'Minimum',
  max: 'Maximum',
  count: 'Number of',
  count_distinct: 'Number of distinct',
}

const OPS = { eq: '=', ne: '<>', gt: '>', gte: '>=', lt: '<', lte: '<=' } as const

class Compiler {
  /** Datasets joined so far (alias = dataset name). */
  private readonly joined = new Map<string, JoinStep[]>()
  private readonly measureExpr = new Map<string, Frag>()

  constructor(
    private readonly model: SemanticModel,
    private readonly plan: QueryPlan,
    private readonly knex: Knex,
    private readonly dialect: Dialect,
    private readonly options: CompileOptions = {},
  ) {}

  private ds(name: string): Dataset {
    const d = this.model.datasets.find((x) => x.name === name)
    if (!d) throw new HubError('UNKNOWN_FIELD', `Unknown dataset '${name}'`)
    return d
  }

  /** `dataset.field` → the field definition, after checking the join path from the root. */
  private ref(ref: string): { ds: Dataset; f: Field } {
    const [dsName = '', fieldName = ''] = ref.split('.')
    const ds = this.ds(dsName)
    const f = ds.fields.find((x) => x.name === fieldName)
    if (!f) throw new HubError('UNKNOWN_FIELD', `Unknown field '${ref}'`)
    this.need(dsName)
    return { ds, f }
  }

  private need(dataset: string): void {
    if (dataset === this.plan.dataset || this.joined.has(dataset)) return
    const path = joinPath(this.model, this.plan.dataset, dataset)
    const bridge = path ? undefined : this.plan.bridges?.find((b) => b.to.dataset === dataset)
    if (bridge) {
      // one-to-many: only sound when each group holds one row of the bridged dataset
      const pk = this.ds(dataset).primaryKey
      if (
        !pk.length ||
        !pk.every((k) => this.plan.dimensions.some((d) => d.field === `${dataset}.${k}` && !d.grain))
      )
        throw new HubError('BAD_REQUEST', `bridging to '${dataset}' needs its key as a dimension`)
      if (this.plan.share && !this.plan.share.numerator)
        throw new HubError('BAD_REQUEST', `a share of the total cannot bridge to '${dataset}'`)
      this.need(bridge.from.dataset)
      this.joined.set(dataset, [bridge])
      return
    }
    if (!path) throw new HubError('UNANSWERABLE', `No join path from ${this.plan.dataset} to ${dataset}`)
    this.joined.set(dataset, path)
  }

  private col(ref: string): Frag {
    const { ds, f } = this.ref(ref)
    if (!f.column) throw new HubError('BAD_REQUEST', `'${ref}' is a derived measure, not a column`)
    return { sql: '??', b: [`${ds.name}.${f.column}`] }
  }

  private measure(m: PlanMeasure): { frag: Frag; type: ResultColumnType; label: string } {
    const [dsName = '', fieldName = ''] = m.field.split('.')
    if (fieldName === '*') {
      if (m.aggregation !== 'count') throw new HubError('BAD_REQUEST', `'${m.field}' can only be counted`)
      const ds = this.ds(dsName)
      this.need(dsName)
      return {
        frag: { sql: 'COUNT(*)', b: [] },
        type: 'integer',
        label: `Number of ${ds.pluralLabel ?? ds.label}`,
      }
    }
    const { ds, f } = this.ref(m.field)
    if (f.derived) {
      const { op, left, right, level } = f.derived
      const l = this.ref(`${ds.name}.${left}`).f
      const r = this.ref(`${ds.name}.${right}`).f
      const lc = `${ds.name}.${l.column ?? l.name}`
      const rc = `${ds.name}.${r.column ?? r.name}`
      let sql: string
      // `* 1e0` makes the division floating point on MySQL too (DECIMAL division keeps 4 digits)
      if (level === 'row') sql = op === '/' ? 'SUM(?? * 1e0 / NULLIF(??, 0))' : `SUM(?? ${op} ??)`
      else {
        const la = (l.aggregation ?? 'sum').toUpperCase()
        const ra = (r.aggregation ?? 'sum').toUpperCase()
        sql = op === '/' ? `(${la}(??) * 1e0 / NULLIF(${ra}(??), 0))` : `(${la}(??) ${op} ${ra}(??))`
      }
      return { frag: { sql, b: [lc, rc] }, type: 'decimal', label: f.label }
    }
    const c = this.col(m.field)
    const agg = m.aggregation
    // AVG over a double: MySQL's DECIMAL average keeps only 4 more digits than the column
    const sql =
      agg === 'count_distinct'
        ? 'COUNT(DISTINCT ??)'
        : agg === 'count'
          ? 'COUNT(??)'
          : agg === 'avg'
            ? 'AVG(?? * 1e0)'
            : `${agg.toUpperCase()}(??)`
    const type: ResultColumnType =
      agg === 'count' || agg === 'count_distinct'
        ? 'integer'
        : agg === 'avg'
          ? 'decimal'
          : agg === 'sum'
            ? f.type === 'integer' || f.type === 'boolean'
              ? 'integer'
              : 'decimal'
            : resultType(f)
    const label =
      f.references && agg === 'count_distinct'
        ? `Number of ${this.ds(f.references.dataset).pluralLabel ?? f.references.dataset}`
        : `${AGG_LABEL[agg] ?? agg} ${f.label}`
    // PostgreSQL sums and averages no booleans: count the true ones as 1.
    const arg =
      this.dialect === 'postgresql' && f.type === 'boolean' && agg !== 'count' && agg !== 'count_distinct'
        ? `CAST(${c.sql} AS integer)`
        : c.sql
    return { frag: { sql: sql.replace('??', arg), b: c.b }, type, label }
  }

  private dimension(
    field: string,
    grain: QueryPlan['dimensions'][number]['grain'],
  ): { frag: Frag; f: Field } {
    const { ds, f } = this.ref(field)
    if (!f.column) throw new HubError('BAD_REQUEST', `'${field}' is not a column`)
    if (!grain) return { frag: { sql: '??', b: [`${ds.name}.${f.column}`] }, f }
    if (f.type !== 'date' && f.type !== 'datetime')
      throw new HubError('BAD_REQUEST', `'${field}' is not a date; it has no ${grain}`)
    const sql = bucketSql(this.dialect, grain, f.grain)
    return { frag: { sql, b: Array(placeholders(sql)).fill(`${ds.name}.${f.column}`) }, f }
  }

  private value(f: Field, v: Scalar): Knex.RawBinding {
    if (v === null) return null
    if (f.type === 'boolean') {
      const on = v === true || v === 1 || v === 'true' || v === '1'
      // PostgreSQL has a real boolean type and does not compare it with 0/1.
      return this.dialect === 'postgresql' ? on : on ? 1 : 0
    }
    if (
      (f.type === 'integer' || f.type === 'decimal') &&
      typeof v === 'string' &&
      v.trim() !== '' &&
      !Number.isNaN(Number(v))
    )
      return Number(v)
    return v
  }

  /** A filter as SQL; in HAVING, `field` names a measure (its output name). */
  private filter(p: PlanFilter, having: boolean): Frag {
    if (p.op === 'and' || p.op === 'or') {
      const parts = p.args.map((a) => this.filter(a, having))
      if (parts.length === 0) return { sql: p.op === 'and' ? '1 = 1' : '1 = 0', b: [] }
      return {
        sql: `(${parts.map((x) => x.sql).join(` ${p.op.toUpperCase()} `)})`,
        b: parts.flatMap((x) => x.b),
      }
    }
    if (p.op === 'not') {
      const inner = this.filter(p.arg, having)
      return { sql: `NOT (${inner.sql})`, b: inner.b }
    }
    return this.leaf(p as LeafFilter, having)
  }

  private leaf(p: LeafFilter, having: boolean): Frag {
    let target: Frag
    let f: Field | undefined
    if (having) {
      const m = this.measureExpr.get(p.field)
      if (!m)
        throw new HubError('BAD_REQUEST', `HAVING refers to '${p.field}', which is not a measure of the plan`)
      target = m
    } else {
      const r = this.ref(p.field)
      f = r.f
      target = this.col(p.field)
    }
    const conv = (v: Scalar) => (f ? this.value(f, v) : v)
    const t = target.sql
    const one = (sql: string, v: Scalar | null): Frag => ({ sql: `${t} ${sql} ?`, b: [...target.b, conv(v)] })
    const values = p.values ?? (p.value !== undefined ? [p.value] : [])
    const like = (pattern: (s: string) => string): Frag => {
      const s = String(p.value ?? '').replace(/[!%_]/g, (c) => `!${c}`)
      // SQLite's LIKE and MySQL's default collations ignore case; PostgreSQL's LIKE does not.
      const op = this.dialect === 'postgresql' ? 'ILIKE' : 'LIKE'
      return { sql: `${t} ${op} ? ESCAPE '!'`, b: [...target.b, pattern(s)] }
    }
    switch (p.op) {
      case 'eq':
        return p.value === null ? { sql: `${t} IS NULL`, b: target.b } : one('=', p.value ?? null)
      case 'ne':
        return p.value === null ? { sql: `${t} IS NOT NULL`, b: target.b } : one('<>', p.value ?? null)
      case 'gt':
        return one('>', p.value ?? null)
      case 'gte':
        return one('>=', p.value ?? null)
      case 'lt':
        return one('<', p.value ?? null)
      case 'lte':
        return one('<=', p.value ?? null)
      case 'in':
      case 'not_in': {
        if (values.length === 0) return { sql: p.op === 'in' ? '1 = 0' : '1 = 1', b: [] }
        const marks = values.map(() => '?').join(', ')
        return {
          sql: `${t} ${p.op === 'in' ? 'IN' : 'NOT IN'} (${marks})`,
          b: [...target.b, ...values.map(conv)],
        }
      }
      case 'between': {
        const [lo = null, hi = null] = values
        if (f?.type === 'datetime' && typeof hi === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(hi)) {
          // whole days: a datetime on the last day is still inside
          const next = new Date(`${hi}T00:00:00Z`)
          next.setUTCDate(next.getUTCDate() + 1)
          return {
            sql: `${t} >= ? AND ${t} < ?`,
            b: [...target.b, lo, ...target.b, next.toISOString().slice(0, 10)],
          }
        }
        return { sql: `${t} BETWEEN ? AND ?`, b: [...target.b, conv(lo), conv(hi)] }
      }
      case 'contains':
        return like((s) => `%${s}%`)
      case 'startswith':
        return like((s) => `${s}%`)
      case 'endswith':
        return like((s) => `%${s}`)
      case 'is_null':
        return { sql: `${t} IS NULL`, b: target.b }
      case 'not_null':
        return { sql: `${t} IS NOT NULL`, b: target.b }
    }
  }

  compile(scopes: RowScopes): CompiledQuery {
    const { plan, knex } = this
    const root = this.ds(plan.dataset)
    const qb = knex.queryBuilder().from({ [root.name]: root.table })
    const columns: ResultColumn[] = []
    const selects: Frag[] = []
    const groupBy: Frag[] = []
    const aggregate = plan.measures.length > 0
    if (!aggregate && plan.select.length === 0)
      throw new HubError('BAD_REQUEST', 'A plan needs measures or select fields')
    // Columns of a dataset whose key is already a dimension depend on that key: select them with
    // MIN() instead of grouping by them (same rows, and the GROUP BY stays the key alone).
    const keyed = new Set(
      plan.dimensions
        .filter((d) => !d.grain)
        .map((d) => d.field.split('.'))
        .filter(([ds, f]) => {
          const pk = this.model.datasets.find((x) => x.name === ds)?.primaryKey
          return pk?.length === 1 && pk[0] === f
        })
        .map(([ds]) => ds),
    )
    const dimExpr = new Map<string, Frag>()
    for (const d of plan.dimensions) {
      const { frag, f } = this.dimension(d.field, d.grain)
      const [dsName = ''] = d.field.split('.')
      const dependent = !d.grain && keyed.has(dsName) && !this.ds(dsName).primaryKey.includes(f.name)
      dimExpr.set(d.as, dependent ? { sql: `MIN(${frag.sql})`, b: frag.b } : frag)
      if (dependent) selects.push({ sql: `MIN(${frag.sql}) as ??`, b: [...frag.b, d.as] })
      else {
        selects.push({ sql: `${frag.sql} as ??`, b: [...frag.b, d.as] })
        groupBy.push(frag)
      }
      columns.push({
        name: d.as,
        type: d.grain ? 'date' : resultType(f),
        label: d.grain ? `${cap(d.grain)} (${f.label.toLowerCase()})` : f.label,
      })
    }
    // rollup: the inner query also groups by the `over` dimensions (not output columns)
    for (const d of plan.rollup?.over ?? []) {
      const { frag } = this.dimension(d.field, d.grain)
      selects.push({ sql: `${frag.sql} as ??`, b: [...frag.b, d.as] })
      groupBy.push(frag)
    }
    for (const m of plan.measures) {
      const measured = this.measure(m)
      const { frag, type, label } = plan.share ? this.shareOf(m, measured, plan.share, dimExpr) : measured
      this.measureExpr.set(m.as, frag)
      selects.push({ sql: `${frag.sql} as ??`, b: [...frag.b, m.as] })
      columns.push({ name: m.as, type, label })
    }
    if (plan.change)
      for (const m of plan.measures) {
        const col = columns.find((c) => c.name === m.as)
        const label = col?.label ?? m.as
        columns.push({
          name: `${m.as}_previous`,
          type: col?.type ?? 'decimal',
          label: `${label}, previous period`,
        })
        columns.push({ name: `${m.as}_change`, type: 'decimal', label: `Change in ${label}` })
        columns.push({ name: `${m.as}_pct_change`, type: 'decimal', label: `% change in ${label}` })
      }
    const selected = new Map<string, { f: Field; frag: Frag; column: ResultColumn }>()
    for (const s of plan.select) {
      const { f } = this.ref(s.field)
      const c = this.col(s.field)
      selects.push({ sql: `${c.sql} as ??`, b: [...c.b, s.as] })
      const column: ResultColumn = { name: s.as, type: resultType(f), label: f.label }
      columns.push(column)
      selected.set(s.as, { f, frag: c, column })
    }
    if (!aggregate && plan.dimensions.length > 0)
      throw new HubError('BAD_REQUEST', 'Dimensions need at least one measure; use select for plain rows')
    const where = plan.filter ? this.filter(plan.filter, false) : undefined
    const market = plan.share?.market && plan.share.numerator ? this.marketOf(plan.share, scopes) : undefined
    const having = plan.having ? this.filter(plan.having, true) : undefined
    const exists = (plan.exists ?? []).map((e) => this.existsClause(e, scopes))
    const names = new Set(columns.map((c) => c.name))
    for (const o of plan.order)
      if (!names.has(o.by))
        throw new HubError('BAD_REQUEST', `Order by '${o.by}', which is not an output column`)

    if (plan.distinct && !aggregate) qb.distinct()
    if (plan.rankWithin) selects.push(this.rankNumber(plan.rankWithin, dimExpr))
    const json =
      this.options.json && selected.size === plan.select.length
        ? jsonRowsSelect(this.dialect, plan, this.options.json, selected)
        : null
    for (const s of json?.selects ?? selects) qb.select(knex.raw(s.sql, s.b as Knex.RawBinding[]))
    // joins along the chosen FK paths, each dataset once, in path order
    const done = new Set<string>([root.name])
    for (const path of this.joined.values()) {
      for (const step of path) {
        if (done.has(step.to.dataset)) continue
        done.add(step.to.dataset)
        const parent = this.ds(step.to.dataset)
        qb.join({ [parent.name]: parent.table }, function (this: Knex.JoinClause) {
          step.from.columns.forEach((c, i) => {
            this.on(`${parent.name}.${step.to.columns[i] ?? c}`, '=', `${step.from.dataset}.${c}`)
          })
        })
      }
    }
    if (where) qb.whereRaw(where.sql, where.b)
    if (market) qb.where(market.col, 'in', market.sub)
    for (const e of exists) {
      if (e.count) qb.where(knex.raw('(?)', [e.sub]), OPS[e.count.op], e.count.value)
      else if (e.negate) qb.whereNotExists(e.sub)
      else qb.whereExists(e.sub)
    }
    // ── Row-level policy: the ONE place row scopes enter a compiled plan. Every table in FROM/JOIN
    //    gets its scope (rules propagate along FKs in policy.ts), so no join can widen what is seen.
    for (const name of done) applyRowScope(qb, this.ds(name).table, name, scopes[name]?.scope)
    // ──
    for (const g of groupBy) qb.groupByRaw(g.sql, g.b)
    if ([plan.rollup, plan.rankWithin, plan.change].filter(Boolean).length > 1)
      throw new HubError('BAD_REQUEST', 'rollup, rankWithin and change do not combine')
    const out = plan.rollup
      ? this.rollup(qb, plan.rollup, columns)
      : plan.rankWithin
        ? this.keepRanked(qb, plan.rankWithin, columns)
        : plan.change
          ? this.withChange(qb, plan.change)
          : qb
    if (having && plan.rollup) throw new HubError('BAD_REQUEST', 'A rollup plan cannot have HAVING')
    if (having) qb.havingRaw(having.sql, having.b)
    // NULL sorts as the smallest value everywhere (SQLite's and MySQL's rule, which the OData keyset
    // paging relies on); PostgreSQL's default is the largest, so say so explicitly there.
    for (const o of plan.order)
      if (this.dialect === 'postgresql')
        out.orderBy(o.by, o.direction, o.direction === 'desc' ? 'last' : 'first')
      else out.orderBy(o.by, o.direction)
    if (plan.limit !== null) out.limit(plan.limit)
    if (plan.offset > 0) out.offset(plan.offset)
    const { sql, bindings } = out.toSQL()
    return json
      ? { sql, bindings, columns: json.columns, json: { text: json.text } }
      : { sql, bindings, columns }
  }

  /** ROW_NUMBER() OVER (PARTITION BY the groups ORDER BY the measure, then the other dimensions). */
  private rankNumber(r: PlanRankWithin, dimExpr: Map<string, Frag>): Frag {
    const m = this.measureExpr.get(r.by)
    if (!m)
      throw new HubError('BAD_REQUEST', `rankWithin orders by '${r.by}', which is not a measure of the plan`)
    const parts: Frag[] = r.partitionBy.map((a) => {
      const d = dimExpr.get(a)
      if (!d) throw new HubError('BAD_REQUEST', `rankWithin partitions by '${a}', which is not a dimension`)
      return d
    })
    const ties = [...dimExpr.entries()].filter(([a]) => !r.partitionBy.includes(a)).map(([, f]) => f)
    const dir = r.direction === 'desc' ? 'DESC' : 'ASC'
    return {
      sql: `ROW_NUMBER() OVER (PARTITION BY ${parts.map((p) => p.sql).join(', ')} ORDER BY ${m.sql} ${dir}${ties.map((t) => `, ${t.sql}`).join('')}) as ??`,
      b: [...parts.flatMap((p) => p.b), ...m.b, ...ties.flatMap((t) => t.b), '_rank'],
    }
  }

  /** SELECT the output columns FROM (the grouped query with its row numbers) t WHERE _rank <= N. */
  private keepRanked(
    inner: Knex.QueryBuilder,
    r: PlanRankWithin,
    columns: ResultColumn[],
  ): Knex.QueryBuilder {
    const { knex } = this
    const outer = knex.queryBuilder().from(inner.as('t'))
    for (const c of columns) outer.select(knex.raw('?? as ??', [`t.${c.name}`, c.name]))
    outer.whereRaw('?? <= ?', ['t._rank', r.limit])
    return outer
  }

  /** (NOT) EXISTS (SELECT 1 FROM dataset WHERE link AND filter), with the dataset's row scope. */
  private existsClause(
    e: PlanExists,
    scopes: RowScopes,
  ): { sub: Knex.QueryBuilder; negate: boolean; count?: NonNullable<PlanExists['count']> } {
    const { knex } = this
    if (e.dataset === this.plan.dataset || this.joined.has(e.dataset))
      throw new HubError('BAD_REQUEST', `exists on '${e.dataset}', which the query already reads`)
    const ds = this.ds(e.dataset)
    const inner = new Compiler(this.model, QueryPlanSchema.parse({ dataset: e.dataset }), knex, this.dialect)
    const outer = this.col(e.link.outer)
    if (!e.link.field.startsWith(`${e.dataset}.`))
      throw new HubError('BAD_REQUEST', `exists links by '${e.link.field}', not a field of '${e.dataset}'`)
    const link = inner.col(e.link.field)
    const sub = knex
      .queryBuilder()
      .select(knex.raw(e.count ? 'COUNT(*)' : '1'))
      .from({ [ds.name]: ds.table })
    sub.whereRaw(`${link.sql} = ${outer.sql}`, [...link.b, ...outer.b])
    if (e.filter) {
      const f = inner.filter(e.filter, false)
      if (inner.joined.size > 0)
        throw new HubError('BAD_REQUEST', `exists filters may only use fields of '${e.dataset}'`)
      sub.whereRaw(f.sql, f.b)
    }
    applyRowScope(sub, ds.table, ds.name, scopes[ds.name]?.scope)
    return { sub, negate: e.negate, ...(e.count ? { count: e.count } : {}) }
  }

  /** A measure as a fraction: of the rows matching the numerator, or of the total over all groups. */
  private shareOf(
    m: PlanMeasure,
    measured: { frag: Frag; label: string },
    share: PlanShare,
    dimExpr: Map<string, Frag>,
  ): { frag: Frag; type: ResultColumnType; label: string } {
    const label = `Share of ${measured.label.replace(/^[A-Z][a-z]/, (x) => x.toLowerCase())}`
    if (!share.numerator) {
      const f = measured.frag
      // market share per group: the total of the group's own market, within the other dimensions
      const parts: Frag[] = []
      if (share.market) {
        const owner = share.market.field.split('.')[0]
        const mk = share.market.as ? dimExpr.get(share.market.as) : undefined
        if (!mk) throw new HubError('BAD_REQUEST', 'a market share by group needs the market as a dimension')
        parts.push(mk)
        for (const d of this.plan.dimensions) {
          const e = dimExpr.get(d.as)
          if (e && !d.field.startsWith(`${owner}.`)) parts.push(e)
        }
      }
      const over = parts.length ? `PARTITION BY ${parts.map((p) => p.sql).join(', ')}` : ''
      return {
        frag: {
          sql: `${f.sql} * 1e0 / NULLIF(SUM(${f.sql}) OVER (${over}), 0)`,
          b: [...f.b, ...f.b, ...parts.flatMap((p) => p.b)],
        },
        type: 'decimal',
        label,
      }
    }
    const num = this.filter(share.numerator, false)
    let part: Frag
    if (m.aggregation === 'count' && m.field.endsWith('.*'))
      part = { sql: `SUM(CASE WHEN ${num.sql} THEN 1 ELSE 0 END)`, b: num.b }
    else if (m.aggregation === 'sum') {
      const c = this.col(m.field)
      part = { sql: `SUM(CASE WHEN ${num.sql} THEN ${c.sql} ELSE 0 END)`, b: [...num.b, ...c.b] }
    } else throw new HubError('BAD_REQUEST', `A share needs a sum or a row count, not ${m.aggregation}`)
    const whole = measured.frag
    return {
      frag: { sql: `${part.sql} * 1e0 / NULLIF(${whole.sql}, 0)`, b: [...part.b, ...whole.b] },
      type: 'decimal',
      label,
    }
  }

  /**
   * Market share's denominator: rows whose market is one of the numerator's markets —
   * `market IN (SELECT market FROM <its dataset> WHERE numerator)`, that dataset's row scope inside.
   */
  private marketOf(share: PlanShare, scopes: RowScopes): { col: Knex.Raw; sub: Knex.QueryBuilder } {
    const { knex } = this
    const field = share.market?.field ?? ''
    const [name = ''] = field.split('.')
    const ds = this.ds(name)
    const inner = new Compiler(this.model, QueryPlanSchema.parse({ dataset: name }), knex, this.dialect)
    const outer = this.col(field)
    const own = inner.col(field)
    const f = inner.filter(share.numerator as PlanFilter, false)
    if (inner.joined.size > 0)
      throw new HubError('BAD_REQUEST', `a market share's part may only use fields of '${name}'`)
    const sub = knex
      .queryBuilder()
      .select(knex.raw(own.sql, own.b))
      .from({ [ds.name]: ds.table })
      .whereRaw(f.sql, f.b)
    applyRowScope(sub, ds.table, ds.name, scopes[ds.name]?.scope)
    return { col: knex.raw(outer.sql, outer.b), sub }
  }

  /**
   * The change between two explicit periods: per group of the other dimensions, each side is a
   * conditional aggregate over the grouped rows of its period, a missing side 0 for sums and counts.
   * Without periods, the series over a dense calendar (change-series.ts).
   */
  private withChange(inner: Knex.QueryBuilder, ch: PlanChange): Knex.QueryBuilder {
    const { knex, plan } = this
    const timeDim = plan.dimensions.find((d) => d.as === ch.time && d.grain)
    if (!timeDim?.grain)
      throw new HubError(
        'BAD_REQUEST',
        `change is over '${ch.time}', which is not a time dimension of the plan`,
      )
    if (plan.having) throw new HubError('BAD_REQUEST', 'change does not combine with having')
    if (!ch.periods) {
      if (ch.lastOnly) throw new HubError('BAD_REQUEST', 'change with lastOnly needs its two periods')
      if (!oneRangeOn(plan.filter, timeDim.field))
        throw new HubError(
          'BAD_REQUEST',
          `a ${timeDim.grain}-by-${timeDim.grain} change needs one unbroken period: periods a filter leaves out would count as empty`,
        )
      const native = this.ref(timeDim.field).f.grain
      const grid = native && grainRank(native) > grainRank(timeDim.grain) ? native : timeDim.grain
      return changeSeries(knex, this.dialect, plan, ch, inner, grid)
    }
    const [prev, cur] = ch.periods
    if (!ch.lastOnly || ch.step)
      throw new HubError('BAD_REQUEST', 'change between two periods is lastOnly and has no step')
    const outer = knex.queryBuilder().from(inner.as('t'))
    for (const d of plan.dimensions) {
      if (d.as === ch.time) {
        outer.select(knex.raw('? as ??', [cur, d.as]))
        continue
      }
      outer.select(knex.raw('?? as ??', [`t.${d.as}`, d.as]))
      outer.groupByRaw('??', [`t.${d.as}`])
    }
    for (const m of plan.measures) {
      const zero = ZERO_WHEN_EMPTY.has(m.aggregation)
      const side = (period: string) => ({
        sql: zero ? 'COALESCE(MAX(CASE WHEN ?? = ? THEN ?? END), 0)' : 'MAX(CASE WHEN ?? = ? THEN ?? END)',
        b: [`t.${ch.time}`, period, `t.${m.as}`],
      })
      const c = side(cur)
      const p = side(prev)
      outer.select(knex.raw(`${c.sql} as ??`, [...c.b, m.as]))
      outer.select(knex.raw(`${p.sql} as ??`, [...p.b, `${m.as}_previous`]))
      outer.select(knex.raw(`${c.sql} - ${p.sql} as ??`, [...c.b, ...p.b, `${m.as}_change`]))
      outer.select(
        knex.raw(`(${c.sql} - ${p.sql}) * 1e0 / NULLIF(${p.sql}, 0) * 100 as ??`, [
          ...c.b,
          ...p.b,
          ...p.b,
          `${m.as}_pct_change`,
        ]),
      )
    }
    return outer
  }

  /** SELECT dims, AGG(measure) FROM (the grouped query) t GROUP BY dims — row scopes stay inside. */
  private rollup(inner: Knex.QueryBuilder, r: PlanRollup, columns: ResultColumn[]): Knex.QueryBuilder {
    const { knex, plan } = this
    const outer = knex.queryBuilder().from(inner.as('t'))
    for (const d of plan.dimensions) {
      outer.select(knex.raw('?? as ??', [`t.${d.as}`, d.as]))
      outer.groupByRaw('??', [`t.${d.as}`])
    }
    const agg = r.aggregation === 'avg' ? 'AVG(?? * 1e0)' : `${r.aggregation.toUpperCase()}(??)`
    const per = [...new Set(r.over.map((d) => (d.grain ? d.grain : this.ref(d.field).ds.label)))].join(
      ' and ',
    )
    for (const m of plan.measures) {
      outer.select(knex.raw(`${agg} as ??`, [`t.${m.as}`, m.as]))
      const col = columns.find((c) => c.name === m.as)
      if (col) {
        // the denominator is only the units with rows in scope ("per HCP with Tirosint TRx in 2024")
        col.label = `${AGG_LABEL[r.aggregation]} per ${per} with matching rows of ${col.label.replace(/^[A-Z][a-z]/, (x) => x.toLowerCase())}`
        if (r.aggregation === 'avg') col.type = 'decimal'
      }
    }
    return outer
  }
}

function cap(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1)
}

function resultType(f: Field): ResultColumnType {
  return f.type === 'unknown' ? 'string' : f.type
}

/** Compile a validated plan against the model (already narrowed to what the principal may see). */
export function compilePlan(
  model: SemanticModel,
  plan: QueryPlan,
  knex: Knex,
  dialect: Dialect,
  scopes: RowScopes,
  options: CompileOptions = {},
): CompiledQuery {
  return new Compiler(model, plan, knex, dialect, options).compile(scopes)
}

/**
 * Whether `filter` bounds `field` by at most one unbroken range: comparisons on it only under AND,
 * and only range operators. An OR, a NOT or an `in` over dates leaves holes a dense calendar would
 * fill with empty periods.
 */
function oneRangeOn(filter: PlanFilter | null, field: string): boolean {
  const mentions = (p: PlanFilter): boolean => {
    if ('args' in p) return p.args.some(mentions)
    if ('arg' in p) return mentions(p.arg)
    return p.field === field
  }
  const walk = (p: PlanFilter): boolean => {
    if ('args' in p) return p.op === 'and' ? p.args.every(walk) : !mentions(p)
    if ('arg' in p) return !mentions(p)
    return p.field !== field || ['gt', 'gte', 'lt', 'lte', 'between', 'not_null'].includes(p.op)
  }
  return filter === null || walk(filter)
}
