/**
 * The demo's calendar: generated as 2023-01-01 .. 2024-12-31 (weekly facts on Saturdays, calls on
 * working days), then moved by whole weeks so that it ends at the last complete week before the seed
 * date (`shiftDaysFor`): "last quarter" on a fresh demo has data, and Saturdays stay Saturdays.
 */

const DAY_MS = 86_400_000
export const FIRST_DAY = Date.UTC(2023, 0, 1)
export const LAST_DAY = Date.UTC(2024, 11, 31)
const FIRST_WEEK_ENDING = Date.UTC(2023, 0, 7)
const LAST_WEEK_ENDING = Date.UTC(2024, 11, 28)

export const isoDate = (ms: number): string => new Date(ms).toISOString().slice(0, 10)
export const msOf = (iso: string): number => Date.parse(`${iso}T00:00:00Z`)

export interface Week {
  index: number
  /** A Saturday, 'YYYY-MM-DD'. */
  ending: string
  year: number
  /** 0 in 2023; grows linearly from 0 to 1 across 2024 — the company's growth campaign. */
  campaignProgress: number
  /** Demand multiplier: winter high, summer low, dips in holiday weeks. */
  season: number
}

/** The US holidays that visibly dent a week's prescribing or a day's calls. */
function holidays(year: number): number[] {
  const nthWeekday = (month: number, weekday: number, n: number): number => {
    const first = Date.UTC(year, month, 1)
    const offset = (weekday - new Date(first).getUTCDay() + 7) % 7
    return first + (offset + 7 * (n - 1)) * DAY_MS
  }
  const lastMonday = (month: number): number => {
    const last = Date.UTC(year, month + 1, 0)
    return last - ((new Date(last).getUTCDay() + 6) % 7) * DAY_MS
  }
  return [
    Date.UTC(year, 0, 1),
    nthWeekday(0, 1, 3), // Martin Luther King Jr. Day
    lastMonday(4), // Memorial Day
    Date.UTC(year, 6, 4),
    nthWeekday(8, 1, 1), // Labor Day
    nthWeekday(10, 4, 4), // Thanksgiving
    Date.UTC(year, 11, 25),
  ]
}

const HOLIDAYS = new Set([...holidays(2023), ...holidays(2024)])

function seasonOf(weekEnding: number): number {
  const d = new Date(weekEnding)
  const dayOfYear = (weekEnding - Date.UTC(d.getUTCFullYear(), 0, 1)) / DAY_MS
  let f = 1 + 0.07 * Math.cos((2 * Math.PI * (dayOfYear - 25)) / 365)
  for (let back = 0; back < 7; back++) if (HOLIDAYS.has(weekEnding - back * DAY_MS)) f *= 0.86
  if (d.getUTCMonth() === 11 && d.getUTCDate() >= 25) f *= 0.85
  return f
}

/** The 104 week-ending Saturdays 2023-01-07 .. 2024-12-28. */
export const WEEKS: readonly Week[] = (() => {
  const out: Week[] = []
  for (let ms = FIRST_WEEK_ENDING, i = 0; ms <= LAST_WEEK_ENDING; ms += 7 * DAY_MS, i++) {
    const year = new Date(ms).getUTCFullYear()
    out.push({
      index: i,
      ending: isoDate(ms),
      year,
      campaignProgress: year === 2024 ? (ms - Date.UTC(2024, 0, 1)) / (LAST_DAY - Date.UTC(2024, 0, 1)) : 0,
      season: seasonOf(ms),
    })
  }
  return out
})()

export interface CallDay {
  date: string
  year: number
  /** Relative chance that a call falls on this day (0 on weekends and holidays). */
  weight: number
}

/** Every day of the period with how likely reps are to be out calling on it. */
export const CALL_DAYS: readonly CallDay[] = (() => {
  const out: CallDay[] = []
  for (let ms = FIRST_DAY; ms <= LAST_DAY; ms += DAY_MS) {
    const d = new Date(ms)
    const weekday = d.getUTCDay()
    let weight = weekday === 0 || weekday === 6 || HOLIDAYS.has(ms) ? 0 : 1
    if (d.getUTCMonth() === 7) weight *= 0.8 // August vacations
    if (d.getUTCMonth() === 11 && d.getUTCDate() >= 20) weight *= 0.5
    if (weekday === 5) weight *= 0.7 // Friday afternoons are for admin
    out.push({ date: isoDate(ms), year: d.getUTCFullYear(), weight })
  }
  return out
})()

/** The generated calendar's last week ending, before it is moved. */
export const CANONICAL_LAST_WEEK = isoDate(LAST_WEEK_ENDING)

/**
 * Days to add to every generated date so the last week ending is the last Saturday strictly before
 * `seedDate` ('YYYY-MM-DD'): a whole number of weeks, 0 for the canonical seed date.
 */
export function shiftDaysFor(seedDate: string): number {
  const seed = msOf(seedDate)
  const lastSaturday = seed - ((new Date(seed).getUTCDay() + 1) % 7 || 7) * DAY_MS
  return (lastSaturday - LAST_WEEK_ENDING) / DAY_MS
}

/** An ISO date moved by `days`. */
export const shiftIso = (iso: string, days: number): string =>
  days ? isoDate(msOf(iso) + days * DAY_MS) : iso
