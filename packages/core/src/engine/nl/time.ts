import type { TimeGrain } from '../plan.ts'
import { addDays, addPeriods, endOf, isValidDate, startOf, ymd } from './dates.ts'
import type { Token } from './tokenize.ts'

/**
 * Time expressions: years, quarters ("Q4 2024", "the fourth quarter of 2024"), halves, months
 * ("December 2024"), days, weeks ("week of 2024-12-02"), explicit and open ranges ("between … and …",
 * "since 2023", "hired after 2020") and periods relative to `asOf`. Relative periods are whole
 * calendar periods before the one holding asOf ("last 6 months" on 2025-01-15 = Jul–Dec 2024);
 * "this …"/"… to date" run from the period's start to asOf.
 */
export interface TimeRange {
  /** Inclusive 'YYYY-MM-DD' bounds; null = open. */
  start: string | null
  end: string | null
  /** The calendar unit the expression names (Q4 2024 → quarter). */
  unit: TimeGrain
  /** Lies after asOf: the data cannot answer it. */
  future?: boolean
}

export interface TimeMatch {
  /** Exclusive token index where the expression ends. */
  end: number
  range: TimeRange
}

export interface TimeContext {
  asOf: string
  /** May the number token at j be read as a year (not "more than 2000 TRx")? */
  yearAllowed(j: number): boolean
}

const UNITS: Record<string, TimeGrain> = {
  day: 'day',
  days: 'day',
  week: 'week',
  weeks: 'week',
  wk: 'week',
  wks: 'week',
  month: 'month',
  months: 'month',
  mo: 'month',
  mos: 'month',
  quarter: 'quarter',
  quarters: 'quarter',
  qtr: 'quarter',
  qtrs: 'quarter',
  year: 'year',
  years: 'year',
  yr: 'year',
  yrs: 'year',
}

const MONTHS: Record<string, number> = {
  january: 1,
  february: 2,
  march: 3,
  april: 4,
  may: 5,
  june: 6,
  july: 7,
  august: 8,
  september: 9,
  october: 10,
  november: 11,
  december: 12,
  jan: 1,
  feb: 2,
  mar: 3,
  apr: 4,
  jun: 6,
  jul: 7,
  aug: 8,
  sep: 9,
  sept: 9,
  oct: 10,
  nov: 11,
  dec: 12,
}
/** Month words that are also ordinary words or abbreviations: need a year or day beside them. */
const WEAK_MONTHS = new Set([
  'may',
  'march',
  'mar',
  'jan',
  'feb',
  'apr',
  'jun',
  'jul',
  'aug',
  'sep',
  'sept',
  'oct',
  'nov',
  'dec',
])

const TIME_PREPS = new Set([
  'in',
  'during',
  'for',
  'since',
  'of',
  'from',
  'until',
  'through',
  'to',
  'between',
  'and',
  'after',
  'before',
])
const LAST = new Set(['last', 'previous', 'past', 'prior', 'trailing', 'rolling', 'preceding', 'latest'])
const TO_DATE: Record<string, TimeGrain> = { ytd: 'year', qtd: 'quarter', mtd: 'month', wtd: 'week' }
const RANGE_JOIN = new Set(['to', 'through', 'thru', 'until', 'till', '-', 'and'])

type Point = { start: string; end: string; unit: TimeGrain; next: number; future?: boolean }

class TimeParser {
  constructor(
    private readonly t: Token[],
    private readonly ctx: TimeContext,
  ) {}

  private w(j: number): string {
    return this.t[j]?.lower ?? ''
  }

  private year(j: number): number | undefined {
    const tok = this.t[j]
    if (tok?.kind !== 'number' || tok.ordinal || tok.num === undefined) return undefined
    if (!/^\d{4}$/.test(tok.lower) || tok.num < 1900 || tok.num > 2100) return undefined
    return this.ctx.yearAllowed(j) ? tok.num : undefined
  }

  /** A year after optional "of" / "," / "in" / "fy". */
  private trailingYear(j: number): { year: number; next: number } | undefined {
    let k = j
    if (this.w(k) === 'of' || this.w(k) === ',' || this.w(k) === 'in') k++
    if (this.w(k) === 'fy' || this.w(k) === 'cy') k++
    const fy = /^fy(\d{4})$/.exec(this.w(k))
    if (fy) return { year: Number(fy[1]), next: k + 1 }
    const y = this.year(k)
    return y === undefined ? undefined : { year: y, next: k + 1 }
  }

  private period(unit: TimeGrain, start: string, next: number): Point {
    const end = endOf(unit, start)
    return { start, end, unit, next, ...(start > this.ctx.asOf ? { future: true } : {}) }
  }

  /** The latest period of `unit` starting on or before asOf that `pick` selects (a month or quarter without a year). */
  private latest(unit: TimeGrain, build: (year: number) => string, next: number): Point {
    const y = Number(this.ctx.asOf.slice(0, 4))
    const thisYear = build(y)
    return this.period(unit, thisYear <= this.ctx.asOf ? thisYear : build(y - 1), next)
  }

  private relative(i: number): Point | undefined {
    const asOf = this.ctx.asOf
    let j = i
    const w = this.w(j)
    if (w === 'today') return { start: asOf, end: asOf, unit: 'day', next: j + 1 }
    if (w === 'yesterday') {
      const d = addDays(asOf, -1)
      return { start: d, end: d, unit: 'day', next: j + 1 }
    }
    if (w === 'tomorrow') {
      const d = addDays(asOf, 1)
      return { start: d, end: d, unit: 'day', next: j + 1, future: true }
    }
    if (w in TO_DATE) {
      const unit = TO_DATE[w] as TimeGrain
      return { start: startOf(unit, asOf), end: asOf, unit, next: j + 1 }
    }
    const unitAt = UNITS[w]
    if (unitAt && this.w(j + 1) === 'to' && this.w(j + 2) === 'date')
      return { start: startOf(unitAt, asOf), end: asOf, unit: unitAt, next: j + 3 }
    // "3 months ago"
    const n0 = this.t[j]?.num
    if (n0 !== undefined && !this.t[j]?.ordinal && UNITS[this.w(j + 1)] && this.w(j + 2) === 'ago') {
      const unit = UNITS[this.w(j + 1)] as TimeGrain
      return this.period(unit, addPeriods(unit, startOf(unit, asOf), -n0), j + 3)
    }
    let kind: 'last' | 'this' | 'next' | undefined
    if (LAST.has(w)) kind = 'last'
    else if (w === 'most' && this.w(j + 1) === 'recent') {
      kind = 'last'
      j++
    } else if (w === 'this' || w === 'current') kind = 'this'
    else if (w === 'next' || w === 'coming' || w === 'upcoming') kind = 'next'
    if (!kind) return undefined
    j++
    const month = MONTHS[this.w(j)]
    if (kind === 'last' && month && !WEAK_MONTHS.has(this.w(j))) {
      const cur = startOf('month', asOf)
      let y = Number(asOf.slice(0, 4))
      if (ymd(y, month, 1) >= cur) y--
      return this.period('month', ymd(y, month, 1), j + 1)
    }
    let n: number | undefined
    const tok = this.t[j]
    if (tok?.num !== undefined && !tok.ordinal && tok.num >= 1 && tok.num <= 120) {
      n = tok.num
      j++
    }
    if (this.w(j) === 'full' || this.w(j) === 'complete' || this.w(j) === 'calendar') j++
    const unit = UNITS[this.w(j)]
    if (!unit) return undefined
    const cur = startOf(unit, asOf)
    if (kind === 'this') return n ? undefined : { start: cur, end: asOf, unit, next: j + 1 }
    if (kind === 'next') {
      const s = addPeriods(unit, cur, 1)
      return { start: s, end: addDays(addPeriods(unit, s, n ?? 1), -1), unit, next: j + 1, future: true }
    }
    const start = addPeriods(unit, cur, -(n ?? 1))
    return { start, end: addDays(cur, -1), unit, next: j + 1 }
  }

  private quarter(i: number): Point | undefined {
    let q: number | undefined
    let j = i
    const m = /^q([1-4])$/.exec(this.w(j))
    if (m) {
      q = Number(m[1])
      j++
    } else if (this.t[j]?.ordinal && (this.t[j]?.num ?? 0) <= 4 && UNITS[this.w(j + 1)] === 'quarter') {
      q = this.t[j]?.num
      j += 2
    } else if (UNITS[this.w(j)] === 'quarter' && /^[1-4]$/.test(this.w(j + 1))) {
      q = Number(this.w(j + 1))
      j += 2
    }
    if (!q) return undefined
    const quarter = q
    const build = (y: number) => ymd(y, (quarter - 1) * 3 + 1, 1)
    const y = this.trailingYear(j)
    if (y) return this.period('quarter', build(y.year), y.next)
    return this.latest('quarter', build, j)
  }

  private half(i: number): Point | undefined {
    let h: number | undefined
    let j = i
    const m = /^h([12])$/.exec(this.w(j))
    if (m) {
      h = Number(m[1])
      j++
    } else if (this.t[j]?.ordinal && (this.t[j]?.num ?? 0) <= 2 && this.w(j + 1) === 'half') {
      h = this.t[j]?.num
      j += 2
    }
    if (!h) return undefined
    const half = h
    const build = (yr: number) => ymd(yr, half === 1 ? 1 : 7, 1)
    const y = this.trailingYear(j)
    const asOfYear = Number(this.ctx.asOf.slice(0, 4))
    const s = y ? build(y.year) : build(asOfYear) <= this.ctx.asOf ? build(asOfYear) : build(asOfYear - 1)
    const end = addDays(addPeriods('month', s, 6), -1)
    return {
      start: s,
      end,
      unit: 'month',
      next: y ? y.next : j,
      ...(s > this.ctx.asOf ? { future: true } : {}),
    }
  }

  private monthOrDay(i: number): Point | undefined {
    let j = i
    let day: number | undefined
    // "1 December 2024"
    const d0 = this.t[j]
    if (
      d0?.num !== undefined &&
      d0.num >= 1 &&
      d0.num <= 31 &&
      MONTHS[this.w(j + 1)] &&
      this.trailingYear(j + 2)
    ) {
      day = d0.num
      j++
    }
    const name = this.w(j)
    const month = MONTHS[name]
    if (!month) return undefined
    j++
    const dTok = this.t[j]
    if (
      day === undefined &&
      dTok?.kind === 'number' &&
      dTok.num !== undefined &&
      dTok.num >= 1 &&
      dTok.num <= 31 &&
      dTok.lower.length <= 4 &&
      !/^\d{4}$/.test(dTok.lower)
    ) {
      day = dTok.num
      j++
    }
    const y = this.trailingYear(j)
    if (!y && day === undefined && WEAK_MONTHS.has(name) && !TIME_PREPS.has(this.w(i - 1))) return undefined
    if (day !== undefined) {
      const year = y?.year ?? Number(this.ctx.asOf.slice(0, 4))
      const date = ymd(year, month, day)
      if (!isValidDate(date)) return undefined
      return {
        start: date,
        end: date,
        unit: 'day',
        next: y ? y.next : j,
        ...(date > this.ctx.asOf ? { future: true } : {}),
      }
    }
    if (y) return this.period('month', ymd(y.year, month, 1), y.next)
    return this.latest('month', (yr) => ymd(yr, month, 1), j)
  }

  private dateToken(j: number): string | undefined {
    const tok = this.t[j]
    return tok?.kind === 'date' && isValidDate(tok.lower) ? tok.lower : undefined
  }

  private week(i: number): Point | undefined {
    if (UNITS[this.w(i)] !== 'week') return undefined
    const rel = this.w(i + 1)
    const at = this.point(i + 2, false)
    if (at?.unit !== 'day') return undefined
    if (rel === 'ending' || rel === 'ended')
      return { start: addDays(at.start, -6), end: at.start, unit: 'week', next: at.next }
    if (rel === 'of' || rel === 'starting' || rel === 'beginning')
      return this.period('week', startOf('week', at.start), at.next)
    return undefined
  }

  private yearPoint(i: number): Point | undefined {
    let j = i
    if (this.w(j) === 'calendar' && UNITS[this.w(j + 1)] === 'year') j += 2
    else if (UNITS[this.w(j)] === 'year' && this.year(j + 1) !== undefined) j++
    const fy = /^(fy|cy)(\d{4})$/.exec(this.w(j))
    let y: number | undefined
    if (fy) y = Number(fy[2])
    else if ((this.w(j) === 'fy' || this.w(j) === 'cy') && this.year(j + 1) !== undefined) {
      j++
      y = this.year(j)
    } else y = this.year(j)
    if (y === undefined) return undefined
    j++
    const q = /^q([1-4])$/.exec(this.w(j))
    if (q) return this.period('quarter', ymd(y, (Number(q[1]) - 1) * 3 + 1, 1), j + 1)
    const h = /^h([12])$/.exec(this.w(j))
    if (h) {
      const s = ymd(y, h[1] === '1' ? 1 : 7, 1)
      return { start: s, end: addDays(addPeriods('month', s, 6), -1), unit: 'month', next: j + 1 }
    }
    return this.period('year', ymd(y, 1, 1), j)
  }

  point(i: number, allowThe = true): Point | undefined {
    let j = i
    if (allowThe && this.w(j) === 'the') j++
    const iso = this.dateToken(j)
    if (iso)
      return {
        start: iso,
        end: iso,
        unit: 'day',
        next: j + 1,
        ...(iso > this.ctx.asOf ? { future: true } : {}),
      }
    return (
      this.relative(j) ??
      this.quarter(j) ??
      this.half(j) ??
      this.week(j) ??
      this.monthOrDay(j) ??
      this.yearPoint(j)
    )
  }

  parse(i: number): TimeMatch | undefined {
    const w = this.w(i)
    const asRange = (p: Point): TimeRange => ({
      start: p.start,
      end: p.end,
      unit: p.unit,
      ...(p.future ? { future: true } : {}),
    })
    if (w === 'between' || w === 'from') {
      const a = this.point(i + 1)
      if (!a) return undefined
      const joiner = this.w(a.next)
      const b =
        RANGE_JOIN.has(joiner) && (w === 'between' ? joiner === 'and' || joiner === '-' : joiner !== 'and')
          ? this.point(a.next + 1)
          : undefined
      if (b) {
        let start = a.start
        // "between March and May 2024": a start without a year takes the end's year (or the one
        // before: "between November and February 2025"); an explicit inverted range is no range
        if (start > b.end) {
          const yearless = !Array.from({ length: a.next - i - 1 }, (_, k) => this.w(i + 1 + k)).some((t) =>
            /^\d{4}(-|$)/.test(t),
          )
          if (!yearless) return undefined
          const endYear = Number(b.end.slice(0, 4))
          start = `${endYear}${start.slice(4)}`
          if (start > b.end) start = `${endYear - 1}${start.slice(4)}`
        }
        return {
          end: b.next,
          range: { start, end: b.end, unit: a.unit, ...(b.future ? { future: true } : {}) },
        }
      }
      if (w === 'between') return undefined
      return { end: a.next, range: { start: a.start, end: null, unit: a.unit } }
    }
    if (
      [
        'since',
        'after',
        'before',
        'until',
        'till',
        'through',
        'thru',
        'starting',
        'beginning',
        'prior',
      ].includes(w)
    ) {
      let j = i + 1
      if ((w === 'starting' || w === 'beginning') && (this.w(j) === 'in' || this.w(j) === 'from')) j++
      if (w === 'prior' && this.w(j) === 'to') j++
      const p = this.point(j)
      if (!p) return undefined
      let range: TimeRange
      if (w === 'since' || w === 'starting' || w === 'beginning')
        range = { start: p.start, end: null, unit: p.unit }
      else if (w === 'after') range = { start: addDays(p.end, 1), end: null, unit: p.unit }
      else if (w === 'before' || w === 'prior')
        range = { start: null, end: addDays(p.start, -1), unit: p.unit }
      else range = { start: null, end: p.end, unit: p.unit }
      return { end: p.next, range }
    }
    const a = this.point(i)
    if (!a) return undefined
    const joiner = this.w(a.next)
    if (RANGE_JOIN.has(joiner) && joiner !== 'and') {
      const b = this.point(a.next + 1)
      if (b && b.end >= a.start)
        return {
          end: b.next,
          range: { start: a.start, end: b.end, unit: a.unit, ...(b.future ? { future: true } : {}) },
        }
    }
    return { end: a.next, range: asRange(a) }
  }
}

/** The time expression starting at token i, if any. */
export function parseTimeAt(tokens: Token[], i: number, ctx: TimeContext): TimeMatch | undefined {
  return new TimeParser(tokens, ctx).parse(i)
}

export const TIME_UNIT_WORDS = UNITS
