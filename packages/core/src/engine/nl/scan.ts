import { distance } from 'fastest-levenshtein'
import { singular } from '../model/words.ts'
import { FILLER, KEYWORDS, type Keyword } from './keywords.ts'
import type { Concept, LexEntry, Lexicon } from './lexicon.ts'
import { parseTimeAt, type TimeRange } from './time.ts'
import type { Token } from './tokenize.ts'

/**
 * Scanning: tokens → items (time expressions, keywords, model concepts, numbers, unknown words),
 * longest match first. Filler words produce no item. Typos are matched to the model's vocabulary
 * only when one concept is clearly nearest.
 */
export interface Cand {
  concept: Concept
  prio: number
  needsLabel?: boolean
}

interface Span {
  from: number
  to: number
  text: string
}

export type Item =
  | (Span & { t: 'time'; range: TimeRange })
  | (Span & { t: 'kw'; kw: Keyword; alt?: Cand[] })
  | (Span & { t: 'concept'; cands: Cand[]; fuzzy?: boolean })
  | (Span & { t: 'number'; value: number; plus?: boolean; ordinal?: boolean })
  | (Span & { t: 'unknown' })

/** Keywords that keep their structural meaning when a model phrase of the same length also matches. */
const STRUCTURAL = new Set([
  'group',
  'cmp',
  'between',
  'top',
  'most',
  'and',
  'or',
  'comma',
  'not',
  'vs',
  'combined',
  'which',
  'count',
  'agg',
  'distinct',
  'grain',
  'trend',
  'sort',
  'dir',
  'with',
])
const NOT_BEFORE_YEAR = new Set([
  'than',
  'over',
  'above',
  'under',
  'below',
  'least',
  'most',
  'top',
  'bottom',
  'exactly',
  'equals',
  'equal',
  'first',
])

function matchLexicon(
  lex: Lexicon,
  tokens: Token[],
  i: number,
): { len: number; entries: LexEntry[] } | undefined {
  const first = tokens[i]
  if (!first) return undefined
  const list = lex.byFirst.get(first.kind === 'word' ? first.stem : first.lower)
  if (!list) return undefined
  let best: LexEntry[] = []
  let bestLen = 0
  for (const e of list) {
    const n = e.stems.length
    if (n < bestLen) break
    let ok = true
    for (let k = 0; k < n && ok; k++) {
      const tok = tokens[i + k]
      if (!tok) ok = false
      else if ((tok.kind === 'word' ? tok.stem : tok.lower) !== e.stems[k]) ok = false
      else if (k > 0 && tok.kind === 'punct') ok = false
    }
    if (ok && e.caseSensitive !== undefined) {
      const typed = tokens
        .slice(i, i + n)
        .map((t) => t.text)
        .join(' ')
      const stored = e.caseSensitive.replace(/[-/]/g, ' ').replace(/\s+/g, ' ')
      // "New" at the start of a sentence is just capitalised, not the city
      if (typed.replace(/[-/]/g, ' ') !== stored || (i === 0 && e.caseSensitive.length > 2)) ok = false
    }
    if (!ok) continue
    if (n > bestLen) {
      best = [e]
      bestLen = n
    } else best.push(e)
  }
  return bestLen ? { len: bestLen, entries: best } : undefined
}

function matchKeyword(tokens: Token[], i: number): { len: number; kw: Keyword } | undefined {
  const list = KEYWORDS.get(tokens[i]?.lower ?? '')
  if (!list) return undefined
  for (const e of list) {
    if (e.words.every((w, k) => tokens[i + k]?.lower === w)) return { len: e.words.length, kw: e.kw }
  }
  return undefined
}

const maxTypos = (len: number) => (len >= 8 ? 2 : len >= 5 ? 1 : 0)

/** The one model concept nearest to the words at i (a typo), if unambiguous. */
function matchFuzzy(
  lex: Lexicon,
  tokens: Token[],
  i: number,
): { len: number; entries: LexEntry[] } | undefined {
  let best: LexEntry[] = []
  let bestD = Number.POSITIVE_INFINITY
  let bestLen = 0
  const typedBy = new Map<number, { typed: string; single: string; budget: number } | null>()
  const typedOf = (n: number) => {
    let t = typedBy.get(n)
    if (t === undefined) {
      const span = tokens.slice(i, i + n)
      if (span.length < n || span.some((x) => x.kind !== 'word')) t = null
      else {
        const typed = span.map((x) => x.lower).join(' ')
        t = { typed, single: singular(typed), budget: maxTypos(typed.replace(/ /g, '').length) }
      }
      typedBy.set(n, t)
    }
    return t
  }
  for (const e of lex.fuzzy) {
    const n = e.stems.length
    const t = typedOf(n)
    if (!t || t.budget === 0 || Math.abs(t.typed.length - e.surface.length) > t.budget + 1) continue
    const d = Math.min(distance(t.typed, e.surface), distance(t.single, e.singularSurface ?? e.surface))
    if (d > t.budget || d === 0) continue
    if (d < bestD || (d === bestD && n > bestLen)) {
      best = [e]
      bestD = d
      bestLen = n
    } else if (d === bestD && n === bestLen) best.push(e)
  }
  if (best.length === 0) return undefined
  const distinct = new Set(best.map((e) => JSON.stringify(e.concept)))
  return distinct.size === 1 ? { len: bestLen, entries: best } : undefined
}

/**
 * "our" is only a possessive ("our reps") unless the model gives it a meaning ("our products" =
 * company products): then a bare "our" before a measure or that entity ("our TRx", "our Tirosint")
 * restricts to it in a way the parser cannot place, so it stays a word to account for.
 */
function possessiveMeansOwn(lex: Lexicon, tokens: Token[], i: number): boolean {
  const own = lex.byFirst.get('our')
  if (!own?.length) return false
  const owners = new Set(own.map((e) => ('dataset' in e.concept ? e.concept.dataset : '')))
  const next = matchLexicon(lex, tokens, i + 1)
  if (!next) return true
  return !next.entries.every((e) => e.concept.type === 'dataset' && !owners.has(e.concept.dataset))
}

export function scan(tokens: Token[], lex: Lexicon, asOf: string): Item[] {
  const items: Item[] = []
  const text = (from: number, to: number) =>
    tokens
      .slice(from, to)
      .map((t) => t.text)
      .join(' ')
  const yearAllowed = (j: number) => {
    const prev = tokens[j - 1]?.lower ?? ''
    if (NOT_BEFORE_YEAR.has(prev) || tokens[j]?.plus) return false
    // "2024 calls by channel": a year opening the question is the period, not a count
    if (j === 0) return true
    const next = matchLexicon(lex, tokens, j + 1)
    return !next?.entries.some((e) => e.concept.type === 'dataset' || e.concept.type === 'field')
  }
  let i = 0
  while (i < tokens.length) {
    const tok = tokens[i] as Token
    const time = parseTimeAt(tokens, i, { asOf, yearAllowed })
    const kw = matchKeyword(tokens, i)
    const lx = matchLexicon(lex, tokens, i)
    const tLen = time ? time.end - i : 0
    const kLen = kw?.len ?? 0
    const cLen = lx?.len ?? 0
    const max = Math.max(tLen, kLen, cLen)
    const cands = (entries: LexEntry[]): Cand[] =>
      entries.map((e) => ({
        concept: e.concept,
        prio: e.prio,
        ...(e.needsLabel ? { needsLabel: true } : {}),
      }))
    if (max > 0 && time && tLen === max) {
      items.push({ t: 'time', from: i, to: time.end, text: text(i, time.end), range: time.range })
      i = time.end
      continue
    }
    if (max > 0 && kw && kLen === max && (cLen < max || STRUCTURAL.has(kw.kw.k))) {
      const item: Item = { t: 'kw', from: i, to: i + kLen, text: text(i, i + kLen), kw: kw.kw }
      if (lx && cLen === max) item.alt = cands(lx.entries)
      items.push(item)
      i += kLen
      continue
    }
    if (lx && cLen === max) {
      items.push({ t: 'concept', from: i, to: i + cLen, text: text(i, i + cLen), cands: cands(lx.entries) })
      i += cLen
      continue
    }
    if (tok.kind === 'number' && tok.num !== undefined) {
      const item: Item = { t: 'number', from: i, to: i + 1, text: tok.text, value: tok.num }
      if (tok.plus) item.plus = true
      if (tok.ordinal) item.ordinal = true
      items.push(item)
      i++
      continue
    }
    if (tok.lower === 'our' && possessiveMeansOwn(lex, tokens, i)) {
      items.push({ t: 'unknown', from: i, to: i + 1, text: tok.text })
      i++
      continue
    }
    if (tok.kind === 'punct' || tok.kind === 'date' || FILLER.has(tok.lower) || tok.lower === 'our') {
      if (tok.kind === 'date') items.push({ t: 'unknown', from: i, to: i + 1, text: tok.text })
      i++
      continue
    }
    if (tok.num !== undefined) {
      items.push({
        t: 'number',
        from: i,
        to: i + 1,
        text: tok.text,
        value: tok.num,
        ...(tok.ordinal ? { ordinal: true } : {}),
      })
      i++
      continue
    }
    const fz = matchFuzzy(lex, tokens, i)
    if (fz) {
      items.push({
        t: 'concept',
        from: i,
        to: i + fz.len,
        text: text(i, i + fz.len),
        cands: cands(fz.entries),
        fuzzy: true,
      })
      i += fz.len
      continue
    }
    items.push({ t: 'unknown', from: i, to: i + 1, text: tok.text })
    i++
  }
  return items
}
