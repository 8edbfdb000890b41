import { createRequire } from 'node:module'
import { HubError } from '@nl2q/core'

/**
 * The OData v4 URL grammar, from `@steedos/odata-v4-parser` (the jaystack odata-v4-parser with the
 * OData 4.01 `in` operator). Evaluated against `@odata/parser` and the original `odata-v4-parser`:
 * neither parses `in`. This file is the only one that touches the library; the rest of the feed sees
 * the small typed AST below.
 */

const require = createRequire(import.meta.url)

interface Token {
  type: string
  value: unknown
  raw: string
  position: number
  next: number
}
interface ParserModule {
  filter(source: string): Token
  query(source: string): Token
}
interface LexerModule {
  default: {
    BWS(value: Uint16Array, index: number): number
    COMMA(value: Uint16Array, index: number): number
    OPEN(value: Uint16Array, index: number): number
    CLOSE(value: Uint16Array, index: number): number
  }
}
interface PrimitiveLiteralModule {
  default: { primitiveLiteral(value: Uint16Array, index: number): Token | undefined }
}

const parser = require('@steedos/odata-v4-parser') as ParserModule
const Lexer = (require('@steedos/odata-v4-parser/lib/lexer.js') as LexerModule).default
const PrimitiveLiteral = (
  require('@steedos/odata-v4-parser/lib/primitiveLiteral.js') as PrimitiveLiteralModule
).default

/** A literal with its Edm type as the grammar recognised it and its text (decoded). */
export interface Literal {
  edm: string
  text: string
}

export type Comparison = 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le'

export type FilterNode =
  | { kind: 'and' | 'or'; left: FilterNode; right: FilterNode }
  | { kind: 'not'; arg: FilterNode }
  | { kind: 'compare'; op: Comparison; left: Operand; right: Operand }
  | { kind: 'call'; method: string; args: Operand[] }
  | { kind: 'in'; property: string; values: Literal[] }
  /** A bare property in a Boolean position: valid OData only when the property is Boolean. */
  | { kind: 'member'; name: string }

export type Operand =
  | { kind: 'property'; name: string }
  | { kind: 'literal'; literal: Literal }
  | { kind: 'other'; raw: string }

const COMPARISONS: Record<string, Comparison> = {
  EqualsExpression: 'eq',
  NotEqualsExpression: 'ne',
  GreaterThanExpression: 'gt',
  GreaterOrEqualsExpression: 'ge',
  LesserThanExpression: 'lt',
  LesserOrEqualsExpression: 'le',
}

/**
 * The grammar works on URL text (RFC 3986 pchar): the already-decoded option is percent-encoded
 * again except for the characters OData syntax uses unencoded, and literal texts are decoded back.
 */
const reencode = (s: string) =>
  s.replace(/[^A-Za-z0-9\-._~!$&'()*+,;=:@ ]/gu, (ch) => encodeURIComponent(ch).replaceAll("'", '%27'))
const decodeText = (s: string) => {
  try {
    return decodeURIComponent(s)
  } catch {
    return s
  }
}

function badFilter(message: string, cause?: unknown): HubError {
  return new HubError('BAD_REQUEST', message, { cause })
}

function unsupported(message: string): HubError {
  return new HubError('NOT_IMPLEMENTED', message, { status: 501 })
}

function literalOf(token: Token): Literal {
  const edm = String(token.value)
  let text = decodeText(token.raw)
  if (edm === 'Edm.String') text = text.slice(1, -1).replaceAll("''", "'")
  return { edm, text }
}

function operand(token: Token): Operand {
  let t = token
  // Unwrap CommonExpression / FirstMemberExpression / MemberExpression / PropertyPathExpression.
  for (let i = 0; i < 8; i++) {
    if (t.type === 'Literal') return { kind: 'literal', literal: literalOf(t) }
    if (t.type === 'ODataIdentifier') return { kind: 'property', name: (t.value as { name: string }).name }
    if (
      ['CommonExpression', 'FirstMemberExpression', 'MemberExpression', 'PropertyPathExpression'].includes(
        t.type,
      ) &&
      t.value &&
      typeof t.value === 'object' &&
      'type' in t.value
    ) {
      t = t.value as Token
      continue
    }
    break
  }
  return { kind: 'other', raw: decodeText(token.raw) }
}

/** The items of an `in (…)` list, read with the grammar's own literal rule. */
function listItems(raw: string): Literal[] {
  const src = Uint16Array.from(raw, (ch) => ch.charCodeAt(0))
  let i = Lexer.OPEN(src, 0)
  if (!i) throw badFilter('Expected ( after in')
  const out: Literal[] = []
  i = Lexer.BWS(src, i)
  const close = Lexer.CLOSE(src, i)
  if (close) return out
  for (;;) {
    const lit = PrimitiveLiteral.primitiveLiteral(src, i)
    if (!lit) throw badFilter(`The in list has a value that is not a literal at ${i}`)
    out.push(literalOf(lit))
    i = Lexer.BWS(src, lit.next)
    const comma = Lexer.COMMA(src, i)
    if (comma) {
      i = Lexer.BWS(src, comma)
      continue
    }
    const end = Lexer.CLOSE(src, i)
    if (!end) throw badFilter(`The in list is not closed at ${i}`)
    if (Lexer.BWS(src, end) !== src.length) throw badFilter('Unexpected text after the in list')
    return out
  }
}

/**
 * The grammar reads everything after `not` as its operand, so `not A and B` arrived as
 * `not (A and B)`. `not` binds tighter than `and`/`or`: it negates the first operand of an
 * unparenthesised chain (a parenthesised operand is a BoolParenExpression and is left whole).
 */
function negateFirst(token: Token): FilterNode {
  if (token.type === 'AndExpression' || token.type === 'OrExpression') {
    const v = token.value as { left: Token; right: Token }
    return {
      kind: token.type === 'AndExpression' ? 'and' : 'or',
      left: negateFirst(v.left),
      right: node(v.right),
    }
  }
  return { kind: 'not', arg: node(token) }
}

/** Expressions whose value is a number: never a Boolean, so a syntax error where a condition is due. */
const ARITHMETIC = new Set([
  'AddExpression',
  'SubExpression',
  'MulExpression',
  'DivExpression',
  'ModExpression',
  'NegateExpression',
])

const notBoolean = (token: Token) =>
  badFilter(`$filter: '${decodeText(token.raw)}' is not a condition (expected e.g. Property eq value)`)

/**
 * Read a condition. A syntax error (a number or string where a condition is due, arithmetic, an
 * operator keyword alone) is a 400; valid OData the feed cannot express (`has`, `true`, casts) a 501.
 */
function node(token: Token): FilterNode {
  const v = token.value as Record<string, Token> & { method?: string; parameters?: Token[] }
  switch (token.type) {
    case 'AndExpression':
    case 'OrExpression':
      return {
        kind: token.type === 'AndExpression' ? 'and' : 'or',
        left: node(v.left as Token),
        right: node(v.right as Token),
      }
    case 'NotExpression':
      return negateFirst(token.value as Token)
    case 'BoolParenExpression':
    case 'ParenExpression':
    case 'CommonExpression':
      return node(token.value as Token)
    case 'MethodCallExpression':
      return { kind: 'call', method: String(v.method), args: (v.parameters ?? []).map(operand) }
    case 'InExpression': {
      const left = operand(v.left as Token)
      if (left.kind !== 'property') throw unsupported('in needs a property on its left')
      const list = v.right as Token | undefined
      if (typeof list?.raw !== 'string') throw badFilter('in needs a list of literals: in (…)')
      return { kind: 'in', property: left.name, values: listItems(list.raw) }
    }
    default: {
      const op = COMPARISONS[token.type]
      if (op) return { kind: 'compare', op, left: operand(v.left as Token), right: operand(v.right as Token) }
      if (ARITHMETIC.has(token.type)) throw notBoolean(token)
      const single = operand(token)
      if (single.kind === 'property') return { kind: 'member', name: single.name }
      if (single.kind === 'literal' && single.literal.edm !== 'Edm.Boolean') throw notBoolean(token)
      throw unsupported(`$filter: ${token.type.replace(/Expression$/, '')} expressions are not supported`)
    }
  }
}

/** Index of the `)` closing the `(` at `open`, skipping quoted literals; -1 when unclosed. */
function closingParen(text: string, open: number): number {
  let depth = 0
  for (let i = open; i < text.length; i++) {
    const ch = text[i]
    if (ch === "'") {
      // a quoted literal runs to the next lone quote ('' is an escaped quote)
      for (i++; i < text.length; i++) {
        if (text[i] === "'" && text[i + 1] === "'") i++
        else if (text[i] === "'") break
      }
    } else if (ch === '(') depth++
    else if (ch === ')' && --depth === 0) return i
  }
  return -1
}

const IN_START = /[A-Za-z_][A-Za-z0-9_./]*\s+in\s*\(/y

/**
 * The grammar reads the operand after `in` as a whole boolean expression, so `a in ('x') and b eq 1`
 * became `a in (('x') and b eq 1)` with the `and` dropped from the tree. Each `property in (…)`
 * outside a quoted literal is put in parentheses first, which the grammar reads correctly; a list
 * that is not closed is left alone for the grammar to refuse.
 */
export function parenthesizeIn(text: string): string {
  let out = ''
  for (let i = 0; i < text.length; ) {
    const ch = text[i] as string
    if (ch === "'") {
      let j = i + 1
      for (; j < text.length; j++) {
        if (text[j] === "'" && text[j + 1] === "'") j++
        else if (text[j] === "'") break
      }
      out += text.slice(i, j + 1)
      i = j + 1
      continue
    }
    IN_START.lastIndex = i
    const start = !/[A-Za-z0-9_./]/.test(text[i - 1] ?? '') && IN_START.exec(text)
    if (start) {
      const close = closingParen(text, i + start[0].length - 1)
      if (close > 0) {
        out += `(${text.slice(i, close + 1)})`
        i = close + 1
        continue
      }
    }
    out += ch
    i++
  }
  return out
}

/** Parse a decoded `$filter` value into the feed's filter AST (400 on a syntax error). */
export function parseFilterSyntax(text: string): FilterNode {
  let token: Token
  try {
    token = parser.filter(reencode(parenthesizeIn(text.trim())))
  } catch (cause) {
    const at = /at (\d+)/.exec(String(cause))?.[1]
    throw badFilter(`$filter is not valid OData${at ? ` (near position ${at})` : ''}`, cause)
  }
  return node(token)
}

export interface OrderItem {
  property: string
  direction: 'asc' | 'desc'
}

/** Parse `$orderby` (properties only; expressions are not supported). */
export function parseOrderBySyntax(text: string): OrderItem[] {
  let token: Token
  try {
    token = parser.query(`$orderby=${reencode(text.trim())}`)
  } catch (cause) {
    throw badFilter('$orderby is not valid OData', cause)
  }
  const options = (token.value as { options: Token[] }).options
  const orderBy = options[0]?.value as { items: Token[] }
  return orderBy.items.map((item) => {
    const { expr, direction } = item.value as { expr: Token; direction: number }
    const op = operand(expr)
    if (op.kind === 'literal') throw badFilter(`$orderby: '${op.literal.text}' is not a property name`)
    if (op.kind !== 'property') throw unsupported('$orderby supports property names only')
    return { property: op.name, direction: direction < 0 ? 'desc' : 'asc' }
  })
}

/** Parse `$select` into property names (`*` = all). */
export function parseSelectSyntax(text: string): string[] | '*' {
  if (text.trim() === '*') return '*'
  let token: Token
  try {
    token = parser.query(`$select=${reencode(text.trim())}`)
  } catch (cause) {
    throw badFilter('$select is not valid OData', cause)
  }
  const options = (token.value as { options: Token[] }).options
  const select = options[0]?.value as { items: Token[] }
  return select.items.map((item) => {
    const raw = decodeText(item.raw)
    if (raw === '*') return '*'
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(raw)) throw unsupported(`$select: '${raw}' is not a property name`)
    return raw
  }) as string[]
}
