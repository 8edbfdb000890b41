import pluralize from 'pluralize'
import { stemmer } from 'stemmer'

/**
 * Word-level helpers shared by model inference and the question parser: identifier → words,
 * labels, stems (Porter, so "prescribers"/"prescriber", "hired"/"hire", "completed"/"complete"
 * meet) and person nouns for field values ("Endocrinology" → "endocrinologist").
 */

const TABLE_PREFIXES = new Set([
  'tbl',
  'tb',
  'dim',
  'fact',
  'fct',
  'stg',
  'vw',
  'v',
  'sb',
  'tx',
  't',
  'ref',
  'lkp',
])

/**
 * Abbreviations warehouse schemas use in identifiers (`totAmt`, `custId`, `ship_dt`), read as the
 * words an analyst says. Only forms that are not English words themselves.
 */
const ABBREVIATIONS: Record<string, string> = {
  amt: 'amount',
  qty: 'quantity',
  dt: 'date',
  cust: 'customer',
  whse: 'warehouse',
  wh: 'warehouse',
  prc: 'price',
  desc: 'description',
  descr: 'description',
  num: 'number',
  cnt: 'count',
  tot: 'total',
  addr: 'address',
  acct: 'account',
  emp: 'employee',
  dept: 'department',
  mgr: 'manager',
  txn: 'transaction',
  trans: 'transaction',
  qtr: 'quarter',
  yr: 'year',
  wk: 'week',
  pct: 'percent',
  pmt: 'payment',
  nm: 'name',
  bal: 'balance',
  avg: 'average',
  svc: 'service',
  org: 'organization',
  prod: 'product',
  cat: 'category',
  loc: 'location',
  sts: 'status',
  stat: 'status',
  disc: 'discount',
}

/** Words with abbreviations spelled out: ["tot", "amt"] → ["total", "amount"]. */
export function expandAbbreviations(words: string[]): string[] {
  return words.map((w) => ABBREVIATIONS[w] ?? w)
}

/** An identifier's words, abbreviations spelled out: `custSegment` → ["customer", "segment"]. */
export function identifierWords(name: string): string[] {
  return expandAbbreviations(splitIdentifier(name))
}
const ACRONYMS = new Set(['id', 'npi', 'crm', 'hcp', 'sku', 'url', 'usd', 'ytd', 'kpi', 'vat', 'upc', 'ean'])

/** `isCompanyProduct`, `is_company_product`, `tbl_Orders2` → lower-case words. */
export function splitIdentifier(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w.toLowerCase())
}

/** Words of a table name without warehouse prefixes (`tbl_`, `dim_`, `fact_`). */
export function tableWords(table: string): string[] {
  const words = identifierWords(table)
  while (words.length > 1 && words[0] && TABLE_PREFIXES.has(words[0])) words.shift()
  return words
}

const hasVowel = (w: string) => /[aeiouy]/.test(w)

/** Display form of one word: acronyms and vowel-less short words upper-case ("trx" → "TRX", "hcps" → "HCPs"). */
function displayWord(w: string): string {
  if (ACRONYMS.has(w)) return w.toUpperCase()
  if (w.length <= 4 && !hasVowel(w)) return w.toUpperCase()
  if (w.length <= 5 && w.endsWith('s') && !hasVowel(w.slice(0, -1))) return `${w.slice(0, -1).toUpperCase()}s`
  return w
}

/** "payer type" → "Payer type"; "hcp" → "HCP". */
export function labelFromWords(words: string[]): string {
  const shown = words.map(displayWord).join(' ')
  return shown.charAt(0).toUpperCase() + shown.slice(1)
}

export function singular(word: string): string {
  if (word.length <= 3 || !/[a-z]/.test(word)) return word
  // pluralize lower-cases acronyms like "hcps" fine; keep words it would mangle.
  return pluralize.singular(word)
}

export function plural(word: string): string {
  if (!/[a-z]/i.test(word)) return word
  if (/^[A-Z]+$/.test(word)) return `${word}s`
  return pluralize.plural(word)
}

/** Plural of a phrase: the last word. */
export function pluralPhrase(phrase: string): string {
  const parts = phrase.split(' ')
  const last = parts.pop() ?? ''
  return [...parts, plural(last)].join(' ')
}

export function singularPhrase(phrase: string): string {
  const parts = phrase.split(' ')
  const last = parts.pop() ?? ''
  const s = /^[A-Z]+s$/.test(last) ? last.slice(0, -1) : singular(last.toLowerCase())
  return [
    ...parts,
    /^[A-Z]/.test(last) && !/^[A-Z]+s$/.test(last) ? s.charAt(0).toUpperCase() + s.slice(1) : s,
  ]
    .join(' ')
    .trim()
}

const stemCache = new Map<string, string>()

/** Porter stem of a lower-case word, cached (the parser stems every token of every question). */
export function stem(word: string): string {
  let s = stemCache.get(word)
  if (s === undefined) {
    s = /^[a-z]+$/.test(word) ? stemmer(word) : word
    if (stemCache.size < 50_000) stemCache.set(word, s)
  }
  return s
}

/**
 * Person nouns of a discipline: "Endocrinology" → "endocrinologist", "Psychiatry" → "psychiatrist",
 * "Pediatrics" → "pediatrician", "Dentistry" → "dentist", "Surgery" → "surgeon".
 */
export function personNouns(value: string): string[] {
  const w = value.toLowerCase()
  if (!/^[a-z]+$/.test(w)) return []
  const out: string[] = []
  if (w.endsWith('ology')) out.push(`${w.slice(0, -1)}ist`)
  else if (w.endsWith('iatry')) out.push(`${w.slice(0, -1)}ist`)
  else if (w.endsWith('istry')) out.push(w.slice(0, -3))
  else if (w.endsWith('ics')) out.push(`${w.slice(0, -1)}ian`)
  else if (w.endsWith('ery')) out.push(`${w.slice(0, -3)}eon`)
  return out
}
