import { personNouns, singular, splitIdentifier, stem, tableWords } from '../model/words.ts'
import type { Dataset, Field, SemanticModel } from '../model-types.ts'
import { codeNames } from '../values/geo.ts'
import type { ValueIndex } from '../values/value-index.ts'
import { COMMON_WORDS, FILLER, KEYWORDS } from './keywords.ts'
import { TIME_UNIT_WORDS } from './time.ts'
import { tokenize } from './tokenize.ts'

/**
 * The tenant's open vocabulary, built once per model and visibility: phrases (as stem sequences)
 * for datasets, fields, verbs and indexed values, so the parser can match a question in memory.
 */
export type ValueHow = 'synonym' | 'exact' | 'code' | 'person' | 'fuzzy'

export type Concept =
  | { type: 'dataset'; dataset: string }
  | { type: 'verb'; dataset: string }
  | { type: 'field'; dataset: string; field: string }
  | {
      type: 'value'
      dataset: string
      field: string
      value: string | number | boolean
      how: ValueHow
      /** The phrase also names the entity that holds the column ("endocrinologists" → hcps). */
      entity?: string
    }
  /** A column that exists but that this principal may not see (or that is hidden). */
  | { type: 'forbidden'; label: string }

export interface LexEntry {
  stems: string[]
  /** Lower-case words as written in the model, for typo matching. */
  surface: string
  concept: Concept
  /** 3 = overrides, 2 = inferred name / exact value, 1 = derived (partial label, code name, person noun). */
  prio: number
  /** Short or common-word values ("A", "TX", "New"): must be typed as stored. */
  caseSensitive?: string
  /** One-letter values: only next to their field's name ("segment A"). */
  needsLabel?: boolean
  /** Singular form of `surface` (typo matching compares both). */
  singularSurface?: string
}

export interface Lexicon {
  byFirst: Map<string, LexEntry[]>
  /** Entries usable for typo tolerance, by surface length. */
  fuzzy: LexEntry[]
  /** Every stem the model knows (to tell unknown words from known ones). */
  known: Set<string>
}

/** Words that are both everyday English and plausible stored values (a city "New", a status "None"). */
const EVERYDAY = new Set([
  'new',
  'old',
  'other',
  'none',
  'all',
  'any',
  'top',
  'total',
  'main',
  'general',
  'standard',
  'normal',
  'more',
  'less',
  'most',
  'best',
  'last',
  'first',
  'next',
  'per',
  'each',
])

const UNIT_SUFFIXES = new Set([
  'minutes',
  'mins',
  'seconds',
  'secs',
  'hours',
  'hrs',
  'days',
  'usd',
  'eur',
  'amt',
  'cents',
  'pct',
  'percent',
  'count',
  'cnt',
  'num',
  'qty',
  'value',
  'val',
])
const TIME_SUFFIXES = new Set(['date', 'time', 'at', 'on', 'day', 'ts', 'timestamp', 'datetime', 'dt'])
const DURATION_UNITS = new Set(['minutes', 'mins', 'hours', 'hrs', 'seconds', 'secs', 'days'])
/** Last words of a measure name that only say "a number": "satisfaction_score" is the satisfaction. */
const GENERIC_MEASURE_NOUNS = new Set([
  'score',
  'rating',
  'rate',
  'amount',
  'value',
  'level',
  'index',
  'total',
])
/** Leading words that say how a stored number was aggregated ("total_amount" is an amount). */
const AGG_PREFIXES = new Set(['total', 'sum', 'avg', 'average', 'mean', 'num', 'number', 'count', 'cnt'])
/** Last words that do not name a column on their own ("job title" → "title", but not "first name" → "name"). */
const WEAK_HEADS = new Set([
  'id',
  'name',
  'key',
  'code',
  'no',
  'num',
  'number',
  'flag',
  'type',
  'level',
  'ref',
])
/**
 * Everyday words for common column names, schema-independent ("units" for a quantity). Added at the
 * lowest priority, so a column or synonym that really has the name always wins.
 */
const THESAURUS: Record<string, string[]> = {
  quantity: ['units', 'unit count', 'pieces', 'qty'],
  qty: ['units', 'quantity'],
  salary: ['pay', 'compensation', 'wage', 'wages'],
  price: ['cost'],
  revenue: ['sales'],
  hire: ['joined', 'join', 'onboarded'],
}
/** Everyday words for people, given to the one dataset whose rows are people (first + last name). */
const PEOPLE = ['people', 'person', 'persons', 'staff', 'individuals']

function phraseStems(phrase: string): { stems: string[]; surface: string } {
  const toks = tokenize(phrase).filter((t) => t.kind !== 'punct')
  return {
    stems: toks.map((t) => (t.kind === 'word' ? t.stem : t.lower)),
    surface: toks.map((t) => t.lower).join(' '),
  }
}

class Builder {
  readonly entries: LexEntry[] = []
  add(phrase: string, concept: Concept, prio: number, extra: Partial<LexEntry> = {}): void {
    const { stems, surface } = phraseStems(phrase)
    if (stems.length === 0) return
    this.entries.push({ stems, surface, concept, prio, ...extra })
  }
}

function datasetPhrases(ds: Dataset): { phrase: string; prio: number }[] {
  const words = tableWords(ds.table)
  const out = [
    { phrase: words.join(' '), prio: 2 },
    { phrase: ds.label, prio: 2 },
    ...(ds.pluralLabel ? [{ phrase: ds.pluralLabel, prio: 2 }] : []),
    ...ds.synonyms.map((s) => ({ phrase: s, prio: 3 })),
  ]
  if (words.length > 1) out.push({ phrase: words[words.length - 1] ?? '', prio: 1 })
  return out
}

function fieldPhrases(ds: Dataset, f: Field, datasetStems: Set<string>): { phrase: string; prio: number }[] {
  const out = [
    { phrase: f.label, prio: f.synonyms.length ? 2 : 2 },
    ...f.synonyms.map((s) => ({ phrase: s, prio: 3 })),
  ]
  const words = f.column ? splitIdentifier(f.column) : splitIdentifier(f.name)
  out.push({ phrase: words.join(' '), prio: 2 })
  const labelWords = f.label.toLowerCase().split(/\s+/)
  const partial = (ws: string[]) => {
    const p = ws.join(' ')
    // "opened_at" → "opened": a participle names the event its date records, even if it is a common verb
    const eventVerb = f.kind === 'time' && ws.length === 1 && /[a-z]{3}ed$/.test(ws[0] ?? '')
    if (!p || (!eventVerb && ws.every((w) => COMMON_WORDS.has(w) || TIME_UNIT_WORDS[w]))) return
    if (ws.length === 1 && datasetStems.has(stem(ws[0] ?? ''))) return
    out.push({ phrase: p, prio: 1 })
  }
  // "duration minutes" → "duration"; "hire date" → "hire" (and so "hired"); "product name" in products → "name"
  for (const ws of [words, labelWords]) {
    if (ws.length > 1 && UNIT_SUFFIXES.has(ws[ws.length - 1] ?? '')) partial(ws.slice(0, -1))
    if (f.kind === 'time' && ws.length > 1 && TIME_SUFFIXES.has(ws[ws.length - 1] ?? ''))
      partial(ws.slice(0, -1))
    const dsWord = stem(singular(tableWords(ds.table).at(-1) ?? ''))
    if (ws.length > 1 && stem(ws[0] ?? '') === dsWord) partial(ws.slice(1))
    // "resolution_hours" → "resolution time"; "satisfaction_score" → "satisfaction"
    const last = ws[ws.length - 1] ?? ''
    if (f.kind === 'measure' && ws.length > 1 && DURATION_UNITS.has(last))
      out.push({ phrase: `${ws.slice(0, -1).join(' ')} time`, prio: 1 })
    if (f.kind === 'measure' && ws.length > 1 && GENERIC_MEASURE_NOUNS.has(last)) partial(ws.slice(0, -1))
    // "total_amount" → "amount" (a filler word elsewhere, but here the only name the column has)
    if (
      f.kind === 'measure' &&
      ws.length > 1 &&
      AGG_PREFIXES.has(ws[0] ?? '') &&
      !KEYWORDS.get(ws[1] ?? '')?.some((k) => k.words.length === 1)
    )
      out.push({ phrase: ws.slice(1).join(' '), prio: 1 })
  }
  for (const w of words) for (const syn of THESAURUS[w] ?? []) out.push({ phrase: syn, prio: 0 })
  // "signup" → "sign up" (and so "signed up"), "checkout" → "check out", "login" → "log in"
  const particle = /^([a-z]{2,})(up|in|out|on|off|over)$/
  for (const p of [...out]) {
    const m = particle.exec(p.phrase.toLowerCase())
    if (m) out.push({ phrase: `${m[1]} ${m[2]}`, prio: p.prio })
  }
  return out
}

/** May this principal see the field? (Hidden fields and role-restricted ones become `forbidden`.) */
export type FieldVisible = (f: Field) => boolean

export function buildLexicon(model: SemanticModel, values: ValueIndex, visible: FieldVisible): Lexicon {
  const b = new Builder()
  const datasets = model.datasets.filter((d) => !d.hidden)
  const datasetStems = new Set<string>()
  const datasetKeys = new Map<string, number>()
  for (const ds of datasets)
    for (const p of datasetPhrases(ds)) {
      const st = phraseStems(p.phrase).stems
      for (const s of st) datasetStems.add(s)
      const k = st.join(' ')
      datasetKeys.set(k, Math.max(datasetKeys.get(k) ?? 0, p.prio))
    }
  // a column label that is also a dataset's name ("product" for product_name) names the dataset
  const fieldPhrasesFor = (ds: Dataset, f: Field) =>
    fieldPhrases(ds, f, datasetStems).filter((p) => {
      const taken = datasetKeys.get(phraseStems(p.phrase).stems.join(' '))
      return taken === undefined || p.prio > taken
    })
  const heads = headNouns(datasets, datasetStems)
  const persons = datasets.filter(
    (d) => d.labelColumns.length === 2 && /first/i.test(d.labelColumns[0] ?? ''),
  )
  if (persons.length === 1 && persons[0])
    for (const w of PEOPLE) b.add(w, { type: 'dataset', dataset: persons[0].name }, 0)
  for (const ds of datasets) {
    for (const p of datasetPhrases(ds)) b.add(p.phrase, { type: 'dataset', dataset: ds.name }, p.prio)
    for (const v of ds.verbs ?? []) b.add(v, { type: 'verb', dataset: ds.name }, 1)
    const dsNoun = stem(singular(tableWords(ds.table).at(-1) ?? ''))
    for (const f of ds.fields) {
      if (!visible(f)) {
        for (const p of fieldPhrasesFor(ds, f)) b.add(p.phrase, { type: 'forbidden', label: f.label }, p.prio)
        continue
      }
      const concept: Concept = { type: 'field', dataset: ds.name, field: f.name }
      for (const p of fieldPhrasesFor(ds, f)) b.add(p.phrase, concept, p.prio)
      const head = heads.get(`${ds.name}.${f.name}`)
      if (head) b.add(head, concept, 0)
      if (f.type === 'boolean') addBooleanPhrases(b, ds, f, dsNoun)
      for (const [phrase, value] of Object.entries(f.valueSynonyms ?? {}))
        b.add(
          phrase,
          {
            type: 'value',
            dataset: ds.name,
            field: f.name,
            value,
            how: 'synonym',
            // "phone calls": a value phrase ending in the dataset's own noun also names the rows
            ...(namesDataset(phrase, ds) ? { entity: ds.name } : {}),
          },
          3,
        )
    }
  }
  for (const col of values.columns) {
    const ds = datasets.find((d) => d.name === col.dataset)
    const f = ds?.fields.find((x) => x.name === col.field)
    if (!ds || !f || !visible(f)) continue
    for (const value of col.values) {
      const concept: Concept = { type: 'value', dataset: ds.name, field: f.name, value, how: 'exact' }
      const lower = value.toLowerCase()
      const extra: Partial<LexEntry> = {}
      // short codes ("TX", "A") and everyday words ("New" the city, "All") count only as typed
      if (value.length <= 3 || FILLER.has(lower) || EVERYDAY.has(lower)) extra.caseSensitive = value
      if (value.trim().length === 1) extra.needsLabel = true
      b.add(value, concept, 2, extra)
      if (col.codes)
        for (const name of codeNames(col.codes, value)) b.add(name, { ...concept, how: 'code' }, 1)
      for (const noun of personNouns(value)) b.add(noun, { ...concept, how: 'person', entity: ds.name }, 1)
    }
  }
  return index(b.entries)
}

/** Does the phrase end with the dataset's own noun (its table word, label or a synonym)? */
function namesDataset(phrase: string, ds: Dataset): boolean {
  const { stems } = phraseStems(phrase)
  if (stems.length < 2) return false
  const last = stems[stems.length - 1]
  return datasetPhrases(ds).some((p) => {
    const st = phraseStems(p.phrase).stems
    return st.length === 1 && st[0] === last
  })
}

/**
 * The head noun of multi-word column names ("job_title" → "title", "annual_budget" → "budget"),
 * for columns whose head no other column or dataset shares (so "title" is never a guess).
 */
function headNouns(datasets: Dataset[], datasetStems: Set<string>): Map<string, string> {
  const byHead = new Map<string, string[]>()
  const whole = new Set<string>()
  for (const ds of datasets)
    for (const f of ds.fields) {
      const words = splitIdentifier(f.column ?? f.name)
      if (words.length === 1) whole.add(stem(words[0] ?? ''))
      if (f.kind === 'time' || f.kind === 'key' || f.type === 'boolean' || f.derived || words.length < 2)
        continue
      const head = words[words.length - 1] ?? ''
      if (WEAK_HEADS.has(head) || UNIT_SUFFIXES.has(head) || COMMON_WORDS.has(head) || /ed$/.test(head))
        continue
      if (datasetStems.has(stem(head))) continue
      byHead.set(head, [...(byHead.get(head) ?? []), `${ds.name}.${f.name}`])
    }
  const out = new Map<string, string>()
  for (const [head, refs] of byHead)
    if (refs.length === 1 && !whole.has(stem(head))) out.set(refs[0] as string, head)
  return out
}

/** "is_company_product" → "company product(s)" = true; "non-company products" is read as not + phrase. */
function addBooleanPhrases(b: Builder, ds: Dataset, f: Field, dsNoun: string): void {
  const phrases = [f.label, ...f.synonyms]
  for (const phrase of phrases) {
    const { stems } = phraseStems(phrase)
    const entity = stems[stems.length - 1] === dsNoun ? ds.name : undefined
    const value: Concept = {
      type: 'value',
      dataset: ds.name,
      field: f.name,
      value: true,
      how: 'synonym',
      ...(entity ? { entity } : {}),
    }
    // as strong as the column's own phrase (a synonym's 3): "TRx for our products" filters on the flag;
    // a weaker value left only the column, which then grouped by it
    b.add(phrase, value, phrase === f.label ? 2 : 3)
    const words = phrase.toLowerCase().split(/\s+/)
    if (words.length === 1) {
      for (const neg of [`in${words[0]}`, `un${words[0]}`, `non${words[0]}`])
        b.add(neg, { ...value, value: false }, 1)
    }
  }
}

function index(entries: LexEntry[]): Lexicon {
  const byFirst = new Map<string, LexEntry[]>()
  const known = new Set<string>()
  for (const e of entries) {
    const first = e.stems[0] ?? ''
    const list = byFirst.get(first) ?? []
    list.push(e)
    byFirst.set(first, list)
    for (const s of e.stems) known.add(s)
  }
  for (const list of byFirst.values()) list.sort((a, b) => b.stems.length - a.stems.length || b.prio - a.prio)
  const fuzzy = entries.filter((e) => e.surface.replace(/ /g, '').length >= 5 && !e.caseSensitive)
  for (const e of fuzzy) e.singularSurface = singular(e.surface)
  return { byFirst, fuzzy, known }
}
