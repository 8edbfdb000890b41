import { stem } from '../model/words.ts'

/** One token of a question. `stem` is what the lexicon matches on. */
export interface Token {
  /** As typed. */
  text: string
  lower: string
  stem: string
  kind: 'word' | 'number' | 'date' | 'punct'
  /** Numeric value of a number token (1,100 → 1100; 10k → 10000; "ten" → 10). */
  num?: number
  /** Ordinal number token ("4th", "fourth"). */
  ordinal?: boolean
  /** The token directly follows a hyphen or slash with no space ("Tirosint-SOL", "in-person"). */
  glued?: boolean
  /** Number had a trailing "+" ("1000+ calls"). */
  plus?: boolean
  i: number
}

const NUMBER_WORDS: Record<string, number> = {
  one: 1,
  two: 2,
  three: 3,
  four: 4,
  five: 5,
  six: 6,
  seven: 7,
  eight: 8,
  nine: 9,
  ten: 10,
  eleven: 11,
  twelve: 12,
  fifteen: 15,
  twenty: 20,
  thirty: 30,
  fifty: 50,
  hundred: 100,
  dozen: 12,
}
const ORDINAL_WORDS: Record<string, number> = {
  first: 1,
  second: 2,
  third: 3,
  fourth: 4,
  fifth: 5,
  sixth: 6,
  seventh: 7,
  eighth: 8,
  ninth: 9,
  tenth: 10,
  eleventh: 11,
  twelfth: 12,
}

const TOKEN_RE =
  /(\d{4}-\d{1,2}-\d{1,2})|(\d{1,2}\/\d{1,2}\/\d{2,4})|(\d+(?:st|nd|rd|th)\b)|(\$?\d[\d,]*(?:\.\d+)?(?:[km]\b|%)?\+?)|([A-Za-z][A-Za-z0-9]*(?:'[A-Za-z]+)*'?)|(\S)/g

/** Split a question into tokens; hyphens and slashes between words become `glued` markers. */
export function tokenize(question: string): Token[] {
  const text = question
    .replace(/[‘’`´]/g, "'")
    .replace(/[“”]/g, '"')
    .replace(/[–—]/g, '-')
  const out: Token[] = []
  let glueNext = false
  let lastEnd = -1
  for (const m of text.matchAll(TOKEN_RE)) {
    const raw = m[0]
    const start = m.index ?? 0
    const adjacent = start === lastEnd
    lastEnd = start + raw.length
    const push = (t: Omit<Token, 'i'>) => out.push({ ...t, i: out.length })
    if (m[1]) {
      const [y, mo, d] = raw.split('-')
      push({
        text: raw,
        lower: `${y}-${mo?.padStart(2, '0')}-${d?.padStart(2, '0')}`,
        stem: raw,
        kind: 'date',
      })
    } else if (m[2]) {
      const [mo = '', d = '', yRaw = ''] = raw.split('/')
      const y = yRaw.length === 2 ? `20${yRaw}` : yRaw
      push({ text: raw, lower: `${y}-${mo.padStart(2, '0')}-${d.padStart(2, '0')}`, stem: raw, kind: 'date' })
    } else if (m[3]) {
      const n = Number.parseInt(raw, 10)
      push({
        text: raw,
        lower: raw.toLowerCase(),
        stem: raw.toLowerCase(),
        kind: 'number',
        num: n,
        ordinal: true,
      })
    } else if (m[4]) {
      const plus = raw.endsWith('+')
      const body = raw.replace(/[$,+]/g, '')
      let n = Number.parseFloat(body)
      if (/k$/i.test(body)) n *= 1000
      else if (/m$/i.test(body)) n *= 1_000_000
      const tok: Omit<Token, 'i'> = {
        text: raw,
        lower: body.toLowerCase(),
        stem: body,
        kind: 'number',
        num: n,
      }
      if (plus) tok.plus = true
      push(tok)
    } else if (m[5]) {
      let lower = raw.toLowerCase().replace(/'s$/, '').replace(/'$/, '').replace(/'/g, '')
      if (lower === 'whats' || lower === 'whos' || lower === 'hows') lower = lower.slice(0, -1)
      const tok: Omit<Token, 'i'> = { text: raw, lower, stem: stem(lower), kind: 'word' }
      if (lower in NUMBER_WORDS) tok.num = NUMBER_WORDS[lower]
      if (lower in ORDINAL_WORDS) {
        tok.num = ORDINAL_WORDS[lower]
        tok.ordinal = true
      }
      if (glueNext && adjacent) tok.glued = true
      push(tok)
    } else {
      if ((raw === '-' || raw === '/') && adjacent && out[out.length - 1]?.kind === 'word') {
        glueNext = true
        continue
      }
      push({ text: raw, lower: raw, stem: raw, kind: 'punct' })
    }
    glueNext = false
  }
  return out
}
