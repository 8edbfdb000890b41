import type { Dialect } from '../db/index.ts'
import { reject } from './reject.ts'

/**
 * Pre-parse pass over the raw SQL text, with the target dialect's lexical rules. It rejects what a
 * parser might mis-handle (stacked statements, executable comments, hints, variables, parameters,
 * stray characters) and hands the parser a text in which
 * - comments are gone (each replaced by a space, so `DEL/**\/ETE` stays two words),
 * - every string literal is a named parameter `:nl2q_sN` whose value (unescaped with the dialect's
 *   rules) is kept aside and later bound, so no user string is ever rendered into SQL text,
 * - quoted identifiers are back-quoted, and a quoted alias after AS is an identifier.
 */
export interface LexedSql {
  text: string
  /** Values of the string literals by parameter name. */
  strings: Map<string, string>
}

export const PARAM_PREFIX = 'nl2q_s'

const IDENT_START = /[A-Za-z_]/
const IDENT_PART = /[A-Za-z0-9_$]/
/** Quoted identifiers and aliases may hold a little more than bare ones, never quotes or markers. */
const QUOTED_IDENT = /^[\p{L}\p{N}_ $#%&()+,.\-/]{1,64}$/u

function isSpace(c: string): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f'
}

function describeChar(c: string): string {
  const cp = c.codePointAt(0) ?? 0
  return `U+${cp.toString(16).toUpperCase().padStart(4, '0')}${cp > 0x20 && cp !== 0x7f ? ` '${c}'` : ''}`
}

const MYSQL_ESCAPES: Record<string, string> = {
  '0': '\0',
  "'": "'",
  '"': '"',
  b: '\b',
  n: '\n',
  r: '\r',
  t: '\t',
  Z: '\x1a',
  '\\': '\\',
  '%': '\\%',
  _: '\\_',
}

export function lexSql(sql: string, dialect: Dialect): LexedSql {
  if (sql.length > 100_000) reject('The SQL is too long (over 100,000 characters)')
  const mysql = dialect === 'mysql'
  const strings = new Map<string, string>()
  let out = ''
  let i = 0
  let ended = false // a ';' was seen: only whitespace and comments may follow

  /** The last word emitted (for AS 'alias' and DATE '…' literals). */
  const lastWord = (): string => /([A-Za-z_]+)\s*$/.exec(out)?.[1]?.toUpperCase() ?? ''

  const readQuoted = (quote: string, backslashes: boolean): string => {
    let value = ''
    let j = i + 1
    for (;;) {
      if (j >= sql.length) reject(`Unterminated quoted text starting at character ${i + 1}`)
      const c = sql[j] as string
      if (backslashes && c === '\\') {
        const n = sql[j + 1]
        if (n === undefined) reject(`Unterminated quoted text starting at character ${i + 1}`)
        value += MYSQL_ESCAPES[n as string] ?? n
        j += 2
        continue
      }
      if (c === quote) {
        if (sql[j + 1] === quote) {
          value += quote
          j += 2
          continue
        }
        i = j + 1
        return value
      }
      value += c
      j++
    }
  }

  const emitIdentifier = (name: string) => {
    if (!QUOTED_IDENT.test(name) || name.toLowerCase().startsWith('__nl2q'))
      reject(`The quoted name "${name.slice(0, 64)}" is not allowed: use letters, digits, spaces and _ only`)
    out += dialect === 'postgresql' ? ` "${name}" ` : ` \`${name}\` `
  }

  const emitString = (value: string) => {
    const word = lastWord()
    if (word === 'AS') return emitIdentifier(value)
    if (word === 'DATE' || word === 'TIME' || word === 'TIMESTAMP') {
      if (!/^\d{4}-\d{2}-\d{2}( \d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?)?$|^\d{2}:\d{2}(:\d{2})?$/.test(value))
        reject(
          `${word} '${value.slice(0, 32)}' is not a valid ${word.toLowerCase()} literal (use 'YYYY-MM-DD')`,
        )
      out += ` '${value}' `
      return
    }
    const name = `${PARAM_PREFIX}${strings.size}`
    strings.set(name, value)
    out += ` :${name} `
  }

  while (i < sql.length) {
    const c = sql[i] as string
    const next = sql[i + 1]
    if (isSpace(c)) {
      out += c
      i++
      continue
    }
    // comments
    if (c === '/' && next === '*') {
      const third = sql[i + 2]
      if (third === '!' || (third === 'M' && sql[i + 3] === '!'))
        reject('Executable comments (/*! … */) are not allowed: remove them')
      if (third === '+') reject('Optimizer hints (/*+ … */) are not allowed: remove them')
      const end = sql.indexOf('*/', i + 2)
      if (end < 0) reject('Unterminated comment (/* without */)')
      // keep line breaks so that parser positions still point at the right line
      out += ` ${sql.slice(i, end).replace(/[^\n]/g, '')}`
      i = end + 2
      continue
    }
    // MySQL needs whitespace (or the end) after `--` for a comment; SQLite does not.
    if ((c === '-' && next === '-' && (!mysql || /\s/.test(sql[i + 2] ?? ' '))) || (mysql && c === '#')) {
      const end = sql.indexOf('\n', i)
      out += ' '
      i = end < 0 ? sql.length : end
      continue
    }
    if (ended) reject('Only one statement is allowed: remove everything after the first ";"')
    if (c === ';') {
      ended = true
      i++
      continue
    }
    if (c === "'") {
      emitString(readQuoted("'", mysql))
      continue
    }
    if (c === '"') {
      if (mysql) emitString(readQuoted('"', true))
      else emitIdentifier(readQuoted('"', false))
      continue
    }
    if (c === '`') {
      // not PostgreSQL syntax, but unambiguous: re-emitted as "name"
      emitIdentifier(readQuoted('`', false))
      continue
    }
    if (c === '[') reject('Bracket-quoted names ([name]) are not supported: use "name" or `name`')
    if (c === '?' || c === ':' || c === '$')
      reject(`Parameters and assignments ('${c}') are not allowed: write values inline as literals`)
    if (c === '@') reject('Variables (@name, @@name) are not allowed')
    if (c === '\\') reject('A backslash is only allowed inside quoted strings')
    if (c === '{' || c === '}') reject(`'${c}' is not allowed (ODBC escapes are not supported)`)
    const code = c.charCodeAt(0)
    if (code < 0x20 || code > 0x7e)
      reject(
        `Unexpected character ${describeChar(c)} outside a quoted string: SQL keywords and operators must be plain ASCII`,
      )
    if (IDENT_START.test(c)) {
      let j = i
      while (j < sql.length && IDENT_PART.test(sql[j] as string)) j++
      out += sql.slice(i, j)
      i = j
      continue
    }
    out += c
    i++
  }
  if (out.trim() === '') reject('The SQL is empty: send one SELECT statement')
  return { text: out, strings }
}
