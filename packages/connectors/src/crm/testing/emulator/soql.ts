import { type Condition, parseQuery, type Query, type WhereClause } from '@jetstreamapp/soql-parser-js'
import { ORG_SCHEMA } from './schema.ts'
import { type OrgStore, SfApiError, type SRecord, type Value } from './store.ts'

/** A selected column: its path from the queried object (`['Account_vod__r', 'External_ID_vod__c']`). */
export interface Column {
  name: string
  path: string[]
}

export interface QueryResult {
  object: string
  columns: Column[]
  rows: SRecord[]
}

const malformed = (message: string) => new SfApiError(400, 'MALFORMED_QUERY', message)

/** Resolve a path from a record, following lookups by relationship name; undefined = bad field. */
function resolve(store: OrgStore, object: string, record: SRecord, path: string[]): Value | undefined {
  let obj = object
  let rec: SRecord | undefined = record
  for (let i = 0; i < path.length - 1; i += 1) {
    const rel = path[i] as string
    const fields = ORG_SCHEMA[obj]?.fields ?? {}
    const entry = Object.entries(fields).find(([, d]) => d.relationshipName === rel)
    if (!entry) return undefined
    const [lookup, def] = entry
    const id: Value | undefined = rec?.[lookup]
    obj = def.referenceTo as string
    rec = typeof id === 'string' ? store.table(obj).get(id) : undefined
    if (!rec) return null
  }
  const last = path[path.length - 1] as string
  if (!(last in (ORG_SCHEMA[obj]?.fields ?? {}))) return undefined
  return rec?.[last] ?? null
}

/** Check that a path names a field of the object (through lookups), else INVALID_FIELD. */
function checkPath(object: string, path: string[]): string {
  let obj = object
  for (let i = 0; i < path.length - 1; i += 1) {
    const def = Object.values(ORG_SCHEMA[obj]?.fields ?? {}).find((d) => d.relationshipName === path[i])
    if (!def?.referenceTo)
      throw new SfApiError(400, 'INVALID_FIELD', `Didn't understand relationship '${path[i]}' in field path`)
    obj = def.referenceTo
  }
  const last = path[path.length - 1] as string
  const type = ORG_SCHEMA[obj]?.fields[last]?.type
  if (!type) throw new SfApiError(400, 'INVALID_FIELD', `No such column '${last}' on entity '${obj}'`)
  return type
}

const unquote = (v: string) =>
  v
    .replace(/^'(.*)'$/s, '$1')
    .replace(/\\'/g, "'")
    .replace(/\\\\/g, '\\')

function literal(type: string | undefined, raw: string): Value {
  switch (type) {
    case 'STRING':
      return unquote(raw)
    case 'BOOLEAN':
      return raw.toUpperCase() === 'TRUE'
    case 'NULL':
      return null
    case 'INTEGER':
    case 'DECIMAL':
      return Number(raw)
    default:
      return raw
  }
}

/** Comparable form: datetimes as epoch ms so `+0000` and `Z` literals compare equal. */
function comparable(fieldType: string, v: Value): Value {
  if (v === null) return null
  if (fieldType === 'datetime') return Date.parse(String(v))
  return v
}

function compare(op: string, fieldType: string, left: Value, right: Value | Value[]): boolean {
  const a = comparable(fieldType, left)
  if (op === 'IN' || op === 'NOT IN') {
    const hit = (right as Value[]).some((r) => comparable(fieldType, r) === a)
    return op === 'IN' ? hit : !hit
  }
  const b = comparable(fieldType, right as Value)
  switch (op) {
    case '=':
      return a === b
    case '!=':
    case '<>':
      return a !== b
    case 'LIKE': {
      const re = new RegExp(
        `^${String(b)
          .replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
          .replace(/%/g, '.*')
          .replace(/_/g, '.')}$`,
        'i',
      )
      return a !== null && re.test(String(a))
    }
  }
  if (a === null || b === null) return false
  switch (op) {
    case '<':
      return a < b
    case '<=':
      return a <= b
    case '>':
      return a > b
    case '>=':
      return a >= b
  }
  throw malformed(`unexpected operator ${op}`)
}

type Token =
  | { kind: 'cond'; test: (r: SRecord) => boolean }
  | { kind: 'op'; op: 'AND' | 'OR' }
  | { kind: '(' | ')' }

/** Flatten the parser's chained WHERE (with paren counts) to tokens, then evaluate with AND over OR. */
function predicate(store: OrgStore, object: string, where: WhereClause | undefined): (r: SRecord) => boolean {
  if (!where) return () => true
  const tokens: Token[] = []
  let node: WhereClause | undefined = where
  while (node) {
    const c = node.left as Condition & {
      field?: string
      operator?: string
      value?: string | string[]
      literalType?: string
      openParen?: number
      closeParen?: number
    }
    for (let i = 0; i < (c.openParen ?? 0); i += 1) tokens.push({ kind: '(' })
    if (c.field) {
      const path = c.field.split('.')
      const type = checkPath(object, path)
      const op = String(c.operator).toUpperCase()
      const value = Array.isArray(c.value)
        ? c.value.map((v) => literal(c.literalType, v))
        : literal(c.literalType, String(c.value))
      tokens.push({
        kind: 'cond',
        test: (r) => compare(op, type, resolve(store, object, r, path) ?? null, value),
      })
    }
    for (let i = 0; i < (c.closeParen ?? 0); i += 1) tokens.push({ kind: ')' })
    const link = node as { operator?: string; right?: WhereClause }
    if (link.operator) tokens.push({ kind: 'op', op: link.operator === 'OR' ? 'OR' : 'AND' })
    node = link.right
  }
  let pos = 0
  const orExpr = (): ((r: SRecord) => boolean) => {
    const parts = [andExpr()]
    while (tokens[pos]?.kind === 'op' && (tokens[pos] as { op: string }).op === 'OR') {
      pos += 1
      parts.push(andExpr())
    }
    return (r) => parts.some((p) => p(r))
  }
  const andExpr = (): ((r: SRecord) => boolean) => {
    const parts = [atom()]
    while (tokens[pos]?.kind === 'op' && (tokens[pos] as { op: string }).op === 'AND') {
      pos += 1
      parts.push(atom())
    }
    return (r) => parts.every((p) => p(r))
  }
  const atom = (): ((r: SRecord) => boolean) => {
    const t = tokens[pos]
    pos += 1
    if (t?.kind === '(') {
      const inner = orExpr()
      if (tokens[pos]?.kind !== ')') throw malformed('unbalanced parentheses')
      pos += 1
      return inner
    }
    if (t?.kind === 'cond') return t.test
    throw malformed('unexpected token in WHERE')
  }
  const test = orExpr()
  if (pos !== tokens.length) throw malformed('unexpected token in WHERE')
  return test
}

/** Run a SOQL query over the store: fields (with relationships), WHERE, ORDER BY, LIMIT, OFFSET. */
export function runSoql(store: OrgStore, soql: string): QueryResult {
  let q: Query
  try {
    q = parseQuery(soql)
  } catch (cause) {
    throw malformed(`unexpected token: ${(cause as Error).message.split('\n')[0]}`)
  }
  const object = q.sObject
  if (!object || !ORG_SCHEMA[object])
    throw new SfApiError(400, 'INVALID_TYPE', `sObject type '${object}' is not supported.`)
  const columns: Column[] = (q.fields ?? []).map((field) => {
    const fd = field as { type: string; field?: string; relationships?: string[]; rawValue?: string }
    if (fd.type !== 'Field' && fd.type !== 'FieldRelationship')
      throw malformed(`unsupported field expression ${fd.type}`)
    const path = [...(fd.relationships ?? []), fd.field as string]
    checkPath(object, path)
    return { name: fd.rawValue ?? path.join('.'), path }
  })
  const test = predicate(store, object, q.where)
  let rows = [...store.table(object).values()].filter(test)
  for (const order of [
    ...(q.orderBy ? (Array.isArray(q.orderBy) ? q.orderBy : [q.orderBy]) : []),
  ].reverse()) {
    const o = order as { field?: string; order?: string; nulls?: string }
    if (!o.field) throw malformed('unsupported ORDER BY')
    const path = o.field.split('.')
    const type = checkPath(object, path)
    const dir = o.order === 'DESC' ? -1 : 1
    rows = rows.sort((x, y) => {
      const a = comparable(type, resolve(store, object, x, path) ?? null)
      const b = comparable(type, resolve(store, object, y, path) ?? null)
      if (a === b) return 0
      if (a === null) return -dir
      if (b === null) return dir
      return a < b ? -dir : dir
    })
  }
  if (q.offset) rows = rows.slice(q.offset)
  if (q.limit !== undefined) rows = rows.slice(0, q.limit)
  const projected = rows.map((r) => {
    const out: SRecord = {}
    for (const c of columns) out[c.name] = resolve(store, object, r, c.path) ?? null
    out.__id = r.Id ?? null
    return out
  })
  return { object, columns, rows: projected }
}
