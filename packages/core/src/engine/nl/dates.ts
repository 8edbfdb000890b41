import type { TimeGrain } from '../plan.ts'

/** Calendar arithmetic on 'YYYY-MM-DD' strings (UTC, no time zones involved). */

export function toDate(iso: string): Date {
  return new Date(`${iso}T00:00:00Z`)
}

export function iso(d: Date): string {
  return d.toISOString().slice(0, 10)
}

export function ymd(y: number, m: number, d: number): string {
  return iso(new Date(Date.UTC(y, m - 1, d)))
}

export function addDays(date: string, n: number): string {
  const d = toDate(date)
  d.setUTCDate(d.getUTCDate() + n)
  return iso(d)
}

export function isValidDate(date: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) return false
  return iso(toDate(date)) === date
}

/** First day of the period of `grain` holding `date` (weeks start on Monday). */
export function startOf(grain: TimeGrain, date: string): string {
  const d = toDate(date)
  const y = d.getUTCFullYear()
  const m = d.getUTCMonth() + 1
  switch (grain) {
    case 'day':
      return date
    case 'week':
      return addDays(date, -((d.getUTCDay() + 6) % 7))
    case 'month':
      return ymd(y, m, 1)
    case 'quarter':
      return ymd(y, Math.floor((m - 1) / 3) * 3 + 1, 1)
    case 'year':
      return ymd(y, 1, 1)
  }
}

/** Shift a period start by n periods. */
export function addPeriods(grain: TimeGrain, start: string, n: number): string {
  const d = toDate(start)
  switch (grain) {
    case 'day':
      return addDays(start, n)
    case 'week':
      return addDays(start, 7 * n)
    case 'month':
      return ymd(d.getUTCFullYear(), d.getUTCMonth() + 1 + n, 1)
    case 'quarter':
      return ymd(d.getUTCFullYear(), d.getUTCMonth() + 1 + 3 * n, 1)
    case 'year':
      return ymd(d.getUTCFullYear() + n, 1, 1)
  }
}

/** Last day of the period of `grain` holding `date`. */
export function endOf(grain: TimeGrain, date: string): string {
  return addDays(addPeriods(grain, startOf(grain, date), 1), -1)
}

export function today(): string {
  return iso(new Date())
}
