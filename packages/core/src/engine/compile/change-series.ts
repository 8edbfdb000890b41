import type { Knex } from 'knex'
import type { Dialect } from '../../db/index.ts'
import type { PlanChange, QueryPlan, TimeGrain } from '../plan.ts'

/** Aggregates whose value for a group with no rows is 0 (not unknown). */
export const ZERO_WHEN_EMPTY = new Set(['sum', 'count', 'count_distinct'])

/** SQL for the bucket after `??` (a 'YYYY-MM-DD' period start), as 'YYYY-MM-DD' text. */
function nextPeriod(dialect: Dialect, grain: TimeGrain): string {
  const [n, unit] =
    grain === 'day'
      ? [1, 'day']
      : grain === 'week'
        ? [7, 'day']
        : grain === 'month'
          ? [1, 'month']
          : grain === 'quarter'
            ? [3, 'month']
            : [1, 'year']
  if (dialect === 'sqlite') return `date(??, '+${n} ${unit}${n > 1 ? 's' : ''}')`
  if (dialect === 'postgresql') return `to_char(CAST(?? AS date) + INTERVAL '${n} ${unit}', 'YYYY-MM-DD')`
  return `DATE_FORMAT(DATE_ADD(??, INTERVAL ${n} ${unit.toUpperCase()}), '%Y-%m-%d')`
}

/** `a` equals `b`, NULL equal to NULL (a group whose value is NULL is still one group). */
function sameOrBothNull(dialect: Dialect): string {
  if (dialect === 'sqlite') return '?? IS ??'
  if (dialect === 'postgresql') return '?? IS NOT DISTINCT FROM ??'
  return '?? <=> ??'
}

/**
 * A period-over-period series over a dense calendar:
 *
 *   WITH RECURSIVE t AS (the grouped query),
 *     cal(_p, _hi) AS (first period with rows, last period; then each next period up to the last),
 *     g AS (SELECT DISTINCT the other dimensions FROM t),
 *     d AS (every group × every period, LEFT JOIN t: a missing period is 0 for sums and counts),
 *     s AS (d with LAG(value, step) OVER (PARTITION BY the group ORDER BY the period))
 *   SELECT dimensions, value, previous, change, % change FROM s
 *
 * Because every period is present in `d`, LAG looks back exactly `step` calendar periods; the first
 * `step` periods of the range have no previous value, so their change is NULL. An edge period the
 * data covers only in part (a quarter with four weeks of rows) is compared as it stands, as a
 * reader's own LAG would; the answer's warnings say so (data-range.ts). `grid` is the step of
 * the calendar: the time dimension's grain, or the column's own coarser grain (weekly data by day).
 */
export function changeSeries(
  knex: Knex,
  dialect: Dialect,
  plan: QueryPlan,
  ch: PlanChange,
  inner: Knex.QueryBuilder,
  grid: TimeGrain,
): Knex.QueryBuilder {
  const time = ch.time
  const step = ch.step ?? 1
  const others = plan.dimensions.filter((d) => d.as !== time).map((d) => d.as)
  const next = nextPeriod(dialect, grid)
  const cal = knex.raw(
    `select MIN(??) as ??, MAX(??) as ?? from ?? union all select ${next}, ?? from ?? where ${next} <= ??`,
    [`t.${time}`, '_p', `t.${time}`, '_hi', 't', 'cal._p', 'cal._hi', 'cal', 'cal._p', 'cal._hi'],
  )
  const q = knex.queryBuilder().with('t', inner).withRecursive('cal', cal)
  const d = knex.queryBuilder().from('cal')
  if (others.length) {
    q.with('g', (g: Knex.QueryBuilder) => {
      g.distinct(others.map((a) => `t.${a}`)).from('t')
    })
    d.crossJoin(knex.raw('??', ['g']))
  }
  const eq = sameOrBothNull(dialect)
  d.leftJoin('t', function (this: Knex.JoinClause) {
    this.on(`t.${time}`, '=', 'cal._p')
    for (const a of others) this.andOn(knex.raw(eq, [`t.${a}`, `g.${a}`]))
  })
  for (const a of others) d.select(knex.raw('?? as ??', [`g.${a}`, a]))
  d.select(knex.raw('?? as ??', ['cal._p', time]))
  for (const m of plan.measures)
    d.select(
      knex.raw(ZERO_WHEN_EMPTY.has(m.aggregation) ? 'COALESCE(??, 0) as ??' : '?? as ??', [
        `t.${m.as}`,
        m.as,
      ]),
    )
  d.whereNotNull('cal._p')
  q.with('d', d)
  const s = knex.queryBuilder().from('d').select('d.*')
  const over = others.length
    ? {
        sql: `PARTITION BY ${others.map(() => '??').join(', ')} ORDER BY ??`,
        b: [...others.map((a) => `d.${a}`), `d.${time}`],
      }
    : { sql: 'ORDER BY ??', b: [`d.${time}`] }
  // step is a validated small integer (the schema's max 12): MySQL wants LAG's offset as a literal
  for (const m of plan.measures)
    s.select(
      knex.raw(`LAG(??, ${Math.trunc(step)}) OVER (${over.sql}) as ??`, [
        `d.${m.as}`,
        ...over.b,
        `${m.as}_previous`,
      ]),
    )
  q.with('s', s)
  const r = knex.queryBuilder().from('s')
  for (const a of plan.dimensions.map((x) => x.as)) r.select(knex.raw('?? as ??', [`s.${a}`, a]))
  for (const m of plan.measures) {
    const cur = `s.${m.as}`
    const prev = `s.${m.as}_previous`
    r.select(knex.raw('?? as ??', [cur, m.as]))
    r.select(knex.raw('?? as ??', [prev, `${m.as}_previous`]))
    r.select(knex.raw('?? - ?? as ??', [cur, prev, `${m.as}_change`]))
    r.select(knex.raw('(?? - ??) * 1e0 / NULLIF(??, 0) * 100 as ??', [cur, prev, prev, `${m.as}_pct_change`]))
  }
  q.with('r', r)
  const out = q.from('r').select('r.*')
  // Ranked by a change ("which quarter grew most"): a period with no change is no candidate, and
  // NULL would otherwise sort first in ascending order.
  const changes = new Set(plan.measures.flatMap((m) => [`${m.as}_change`, `${m.as}_pct_change`]))
  for (const o of plan.order) if (changes.has(o.by)) out.whereNotNull(`r.${o.by}`)
  return out
}
