import type { Dialect } from '../../db/index.ts'
import type { TimeGrain } from '../plan.ts'

/**
 * SQL for a time bucket: the first day of the period as 'YYYY-MM-DD' text, identical on SQLite,
 * MySQL/MariaDB and PostgreSQL. `col` is a `??` placeholder bound to the column. Weeks start on Monday. A column
 * that already holds period markers of `nativeGrain` (week_ending) is its own bucket at that grain.
 */
export function bucketSql(dialect: Dialect, grain: TimeGrain, nativeGrain?: TimeGrain): string {
  const own = nativeGrain && grainRank(grain) <= grainRank(nativeGrain)
  if (dialect === 'sqlite') {
    if (own || grain === 'day') return 'date(??)'
    switch (grain) {
      case 'week':
        return "date(??, 'weekday 0', '-6 days')"
      case 'month':
        return "strftime('%Y-%m-01', ??)"
      case 'quarter':
        return "printf('%s-%02d-01', strftime('%Y', ??), ((CAST(strftime('%m', ??) AS INTEGER) - 1) / 3) * 3 + 1)"
      case 'year':
        return "strftime('%Y-01-01', ??)"
    }
  }
  if (dialect === 'postgresql') {
    if (own || grain === 'day') return "to_char(??, 'YYYY-MM-DD')"
    // date_trunc's weeks are ISO weeks: they start on Monday too.
    return `to_char(date_trunc('${grain}', ??), 'YYYY-MM-DD')`
  }
  if (own || grain === 'day') return "DATE_FORMAT(??, '%Y-%m-%d')"
  switch (grain) {
    case 'week':
      return "DATE_FORMAT(DATE_SUB(??, INTERVAL WEEKDAY(??) DAY), '%Y-%m-%d')"
    case 'month':
      return "DATE_FORMAT(??, '%Y-%m-01')"
    case 'quarter':
      return "DATE_FORMAT(MAKEDATE(YEAR(??), 1) + INTERVAL (QUARTER(??) - 1) QUARTER, '%Y-%m-%d')"
    case 'year':
      return "DATE_FORMAT(??, '%Y-01-01')"
  }
}

/** How many `??` placeholders the bucket SQL holds (each binds the same column). */
export function placeholders(sql: string): number {
  return sql.split('??').length - 1
}

export function grainRank(g: TimeGrain): number {
  return ['day', 'week', 'month', 'quarter', 'year'].indexOf(g)
}
