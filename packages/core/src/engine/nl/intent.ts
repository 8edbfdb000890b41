import type { Aggregation } from '../model-types.ts'
import type { TimeGrain } from '../plan.ts'
import type { CmpOp } from './keywords.ts'
import type { Cand } from './scan.ts'
import type { TimeRange } from './time.ts'

/**
 * What a question asks for, before the model decides the FROM table and join paths:
 * the parser's output and the resolver's input.
 */
export type MeasureRef =
  /** A measure (or derived measure) field; `agg` undefined = the field's default aggregation. */
  | { kind: 'field'; dataset: string; field: string; agg?: Aggregation }
  /** Count rows/entities of a dataset ("how many HCPs", "calls by channel"). */
  | { kind: 'count'; dataset: string }
  /** Count distinct values of a column ("how many specialties"). */
  | { kind: 'countField'; dataset: string; field: string }

/** `per`: named by "per X" / "weekly" — with an average, the unit the totals are averaged over. */
export type DimRef =
  | { kind: 'field'; dataset: string; field: string; grain?: TimeGrain; per?: boolean }
  /** Group by an entity: its key and label columns. */
  | { kind: 'entity'; dataset: string; per?: boolean }
  /** A time grain on the FROM dataset's time dimension (or on `field`). */
  | { kind: 'grain'; grain: TimeGrain; field?: { dataset: string; field: string }; per?: boolean }

export interface ValueGroup {
  /** Per value mentioned: the columns it may belong to. */
  values: { cands: Cand[]; text: string }[]
  negate: boolean
  /** "Tirosint vs Synthroid": also group by the column. */
  compare: boolean
  /** Named right after "share of" ("share of hypothyroidism NRx"): the denominator's scope. */
  shareScope?: boolean
  /** The part whose share is asked ("Synthroid share", "came from Medicare"): the share's numerator. */
  sharePart?: boolean
  /** Restrict to this field/dataset (a neighbouring "region", "territory"). */
  hintField?: { dataset: string; field: string }
  hintDataset?: string
}

export type CmpTarget =
  /** "more than 100 TRx", "more than 1100 calls": an aggregate per group. */
  | { form: 'agg'; measure: MeasureRef }
  /** "list price above 100": a column, row-level unless it is a fact measure of a grouped entity. */
  | { form: 'column'; dataset: string; field: string }

export interface CmpIntent {
  target: CmpTarget
  op: CmpOp | 'between'
  values: number[]
  text: string
}

export interface TimeIntent {
  range: TimeRange
  field?: { dataset: string; field: string }
  text: string
}

export interface Intent {
  measures: MeasureRef[]
  subject?: { dataset: string; plural: boolean; how: 'count' | 'list' | 'which' | 'top' | 'first' }
  dims: DimRef[]
  /** Dimension asked with "which"/"what" and no measure: list its distinct values. */
  whichField?: { dataset: string; field: string }
  values: ValueGroup[]
  cmps: CmpIntent[]
  times: TimeIntent[]
  /** Two or more time points compared ("2023 vs 2024"): group by their unit. */
  timeCompare?: TimeGrain
  order?: {
    dir: 'asc' | 'desc'
    limit?: number
    measure?: MeasureRef
    /** A dimension to sort by ("sorted by name"). */
    dim?: { dataset: string; field: string }
    /** From "top/bottom N" (vs "the most", "highest"). */
    ranking: boolean
  }
  /** Extra columns to show in a listing ("reps and their hire dates"). */
  selects: { dataset: string; field: string }[]
  verbs: string[]
  /** Datasets whose verb a noun evokes ("prescribers" → prescribe): a tie-breaker only. */
  weakVerbs: string[]
  /** A generic relation verb was used ("wrote", "bought"): a linking fact table is meant. */
  relverb: boolean
  qualifiers: string[]
  trend: boolean
  /** Period-over-period change ("QoQ change", "growth Q4 vs Q3"); `rank`: order by the change. */
  /** `over`: the unit of "X over X" ("YoY by quarter": each quarter vs the same quarter a year before). */
  change?: { pct: boolean; rank?: 'asc' | 'desc'; limit?: number; over?: TimeGrain }
  list: boolean
  distinct: boolean
  /** "… but had no completed calls (that quarter)": rows of the subject with no such rows. */
  absent: { dataset: string; values: { cands: Cand[]; text: string }[]; sameTime: boolean; text: string }[]
  /** "Synthroid share of NRx": `sharePart` value groups are the numerator, all others filter both sides. */
  share?: { market: boolean }
}

export function emptyIntent(): Intent {
  return {
    measures: [],
    dims: [],
    values: [],
    cmps: [],
    times: [],
    selects: [],
    verbs: [],
    relverb: false,
    weakVerbs: [],
    qualifiers: [],
    absent: [],
    trend: false,
    list: false,
    distinct: false,
  }
}
