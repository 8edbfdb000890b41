import type { Dialect } from '../db/index.ts'
import type { Dataset } from '../engine/model-types.ts'
import { type AllowList, allowList, DANGEROUS_FUNCTIONS } from './allow-list.ts'
import { reject } from './reject.ts'

/**
 * Validate a node-sql-parser AST and rebuild it into a fresh, canonical AST that holds only what
 * was checked. Nothing of the parsed tree is passed through: a node type, key or value that is not
 * understood here is rejected (never silently dropped, never copied). Every reference to a model
 * table becomes a placeholder that the renderer replaces with the principal's scoped derived table.
 */

type Node = Record<string, unknown>

export interface TableRef {
  /** Placeholder table name in the rebuilt AST. */
  placeholder: string
  dataset: Dataset
}

export interface RebuildInput {
  dialect: Dialect
  /** Visible datasets by lower-cased table name. */
  datasets: Map<string, Dataset>
  /** Parameter names produced by the lexer. */
  params: ReadonlySet<string>
  /**
   * Tables (lower-cased) of datasets withheld because the row policy cannot scope them: naming one
   * throws this refusal instead of "unknown table", so the caller learns why.
   */
  withheld?: ReadonlyMap<string, Error>
}

export const PLACEHOLDER_PREFIX = '__nl2q_t'
const RESERVED_PREFIX = '__nl2q'
const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/
const ALIAS = /^[\p{L}\p{N}_ $#%&()+,.\-/]{1,64}$/u
const NUMBER = /^-?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/
const TYPED_LITERAL = /^\d{4}-\d{2}-\d{2}( \d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?)?$|^\d{2}:\d{2}(:\d{2})?$/
const META_KEYS = new Set(['tableList', 'columnList', 'loc'])
const MAX_DEPTH = 200

const SYSTEM_TABLES = new Set([
  'sqlite_master',
  'sqlite_schema',
  'sqlite_temp_master',
  'sqlite_temp_schema',
  'sqlite_sequence',
  'sqlite_stat1',
  'sqlite_stat2',
  'sqlite_stat3',
  'sqlite_stat4',
  'information_schema',
  'performance_schema',
  'mysql',
  'sys',
  'dual',
])

const JOINS = new Map(
  [
    'JOIN',
    'INNER JOIN',
    'LEFT JOIN',
    'LEFT OUTER JOIN',
    'RIGHT JOIN',
    'RIGHT OUTER JOIN',
    'FULL JOIN',
    'FULL OUTER JOIN',
    'CROSS JOIN',
  ].map((j) => [j, j]),
)

const SET_OPS = new Set(['union', 'union all', 'union distinct', 'intersect', 'except'])

function isNode(v: unknown): v is Node {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function isEmpty(v: unknown): boolean {
  return (
    v === null ||
    v === undefined ||
    v === false ||
    (Array.isArray(v) && (v.length === 0 || v.every((x) => x === null))) ||
    (isNode(v) && Object.values(v).every((x) => x === null || x === undefined))
  )
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : ''
}

/** Reject any key that carries meaning we did not model. */
function onlyKeys(node: Node, allowed: readonly string[], what: string): void {
  for (const [k, v] of Object.entries(node)) {
    if (allowed.includes(k) || META_KEYS.has(k) || isEmpty(v)) continue
    reject(
      `${what} uses syntax that guarded SQL does not support (${k.replace(/_/g, ' ')}); simplify the query`,
    )
  }
}

function identifier(v: unknown, what: string): string {
  const name = identifierValue(v)
  if (!IDENT.test(name) && !ALIAS.test(name)) reject(`The ${what} "${name.slice(0, 64)}" is not a valid name`)
  if (name.toLowerCase().startsWith(RESERVED_PREFIX))
    reject(`Names starting with ${RESERVED_PREFIX} are reserved`)
  return name
}

function identifierValue(v: unknown): string {
  if (typeof v === 'string') return v
  if (isNode(v)) {
    if (isNode(v.expr)) return identifierValue(v.expr)
    if ((v.type === 'default' || v.type === 'backticks_quote_string') && typeof v.value === 'string')
      return v.value
  }
  reject('A name in the query could not be understood; use plain identifiers')
}

interface Scope {
  /** Visible CTE names (lower-cased). */
  ctes: ReadonlySet<string>
}

export class Rebuilder {
  readonly tables: TableRef[] = []
  readonly usedParams = new Set<string>()
  private readonly allow: AllowList
  private readonly aliases = new Set<string>()
  private readonly baseAliases = new Map<string, Dataset | null>()
  private readonly columnRefs: { qualifier: string | null; column: string }[] = []
  private depth = 0
  /** FROM items and value subqueries in the whole statement: more than one can multiply row work. */
  sources = 0

  constructor(private readonly input: RebuildInput) {
    this.allow = allowList(input.dialect)
  }

  statement(ast: unknown): Node {
    if (!isNode(ast)) reject('Only one SELECT statement is allowed')
    if (ast.type !== 'select') {
      const kind = str(ast.type).toUpperCase() || 'this statement'
      reject(
        `${kind} is not allowed: guarded SQL runs exactly one read-only SELECT (WITH … SELECT and UNION are fine)`,
      )
    }
    const out = this.query(ast, { ctes: new Set() })
    this.checkColumns()
    return out
  }

  /** A SELECT with its UNION/INTERSECT/EXCEPT chain; the head's WITH scopes the whole chain. */
  query(ast: Node, scope: Scope): Node {
    this.enter()
    const ctes = new Set(scope.ctes)
    let withOut: Node[] | null = null
    if (Array.isArray(ast.with) && ast.with.length > 0) {
      withOut = []
      // Recursive CTEs make runaway queries trivial (SQLite cannot be interrupted): not needed for analytics.
      if (ast.with.some((c) => isNode(c) && c.recursive === true))
        reject('WITH RECURSIVE is not allowed; use plain CTEs')
      for (const cte of ast.with) {
        if (!isNode(cte)) reject('A WITH clause could not be understood')
        onlyKeys(cte, ['name', 'stmt', 'columns', 'recursive'], 'A WITH clause')
        const name = identifier(cte.name, 'CTE name')
        if (this.input.datasets.has(name.toLowerCase()) || SYSTEM_TABLES.has(name.toLowerCase()))
          reject(`The CTE name "${name}" is also a table name; choose another name`)
        const stmt = cte.stmt
        if (!isNode(stmt) || !isNode(stmt.ast) || stmt.ast.type !== 'select')
          reject(`The CTE "${name}" must be a SELECT (data-modifying CTEs are not allowed)`)
        // A CTE sees the CTEs before it, never itself (SQLite would otherwise recurse without RECURSIVE).
        const body = this.query(stmt.ast, { ctes: new Set(ctes) })
        ctes.add(name.toLowerCase())
        let columns: Node[] | null = null
        if (Array.isArray(cte.columns) && cte.columns.length > 0) {
          columns = cte.columns.map((c) => {
            const col = identifier(isNode(c) ? c.column : c, 'CTE column')
            this.aliases.add(col.toLowerCase())
            return { type: 'column_ref', table: null, column: col }
          })
        }
        withOut.push({ name: { type: 'default', value: name }, stmt: { ast: body }, columns })
      }
    }
    const inner: Scope = { ctes }
    const head = this.select(ast, inner)
    head.with = withOut
    let tail = head
    let source = ast
    while (source._next !== undefined && source._next !== null) {
      const next = source._next
      if (!isNode(next) || next.type !== 'select') reject('Every branch of a UNION must be a SELECT')
      if (Array.isArray(next.with) && next.with.length > 0)
        reject('WITH is only allowed at the start of the query')
      const op = str(source.set_op).toLowerCase()
      if (!SET_OPS.has(op))
        reject(`The set operation "${op}" is not supported (use UNION, INTERSECT or EXCEPT)`)
      const branch = this.select(next, inner)
      tail._next = branch
      tail.set_op = op
      tail = branch
      source = next
    }
    this.leave()
    return head
  }

  private select(ast: Node, scope: Scope): Node {
    if (isNode(ast.into) && !isEmpty(ast.into.position))
      reject('SELECT … INTO (files or variables) is not allowed')
    if (!isEmpty(ast.locking_read) || !isEmpty(ast.for_update))
      reject('Locking reads (FOR UPDATE, LOCK IN SHARE MODE) are not allowed: remove the locking clause')
    if (!isEmpty(ast.options))
      reject(
        'SELECT options (SQL_CALC_FOUND_ROWS, HIGH_PRIORITY, SQL_NO_CACHE, …) are not allowed: remove them',
      )
    if (!isEmpty(ast.window)) reject('Named windows (WINDOW w AS …) are not supported: write OVER (…) inline')
    onlyKeys(
      ast,
      [
        'with',
        'type',
        'options',
        'distinct',
        'columns',
        'into',
        'from',
        'where',
        'groupby',
        'having',
        'orderby',
        'limit',
        '_next',
        'set_op',
        'parentheses_symbol',
      ],
      'The SELECT',
    )
    const out: Node = { with: null, type: 'select', options: null, distinct: this.distinct(ast.distinct) }
    // FROM first: it defines the aliases the rest refers to.
    out.from = this.from(ast.from, scope)
    out.columns = this.columns(ast.columns, scope)
    out.into = { position: null }
    out.where = ast.where == null ? null : this.expr(ast.where, scope)
    out.groupby = this.groupBy(ast.groupby, scope)
    out.having = ast.having == null ? null : this.expr(ast.having, scope)
    out.orderby = this.orderBy(ast.orderby, scope)
    out.limit = this.limit(ast.limit)
    out.locking_read = null
    out.window = null
    out.collate = null
    if (ast.parentheses_symbol === true) out.parentheses_symbol = true
    return out
  }

  private distinct(v: unknown): unknown {
    if (isEmpty(v)) return null
    const kind = typeof v === 'string' ? v : isNode(v) ? str(v.type) : ''
    if (kind.toUpperCase() !== 'DISTINCT' || (isNode(v) && !isEmpty(v.columns)))
      reject(`${kind || 'This DISTINCT form'} is not supported; use plain DISTINCT`)
    return 'DISTINCT'
  }

  private columns(v: unknown, scope: Scope): Node[] {
    if (v === '*') return [{ expr: { type: 'column_ref', table: null, column: '*' }, as: null }]
    if (!Array.isArray(v) || v.length === 0) reject('The SELECT list is empty')
    return v.map((c) => {
      if (!isNode(c)) reject('A SELECT column could not be understood')
      onlyKeys(c, ['expr', 'as'], 'A SELECT column')
      let as: string | null = null
      if (!isEmpty(c.as)) {
        as = identifier(c.as, 'column alias')
        this.aliases.add(as.toLowerCase())
      }
      return { expr: this.expr(c.expr, scope), as }
    })
  }

  private from(v: unknown, scope: Scope): Node[] | null {
    if (isEmpty(v)) return null
    if (!Array.isArray(v)) reject('The FROM clause could not be understood')
    return v.map((item, i) => this.fromItem(item, scope, i))
  }

  private fromItem(item: unknown, scope: Scope, index: number): Node {
    this.sources++
    if (!isNode(item)) reject('A FROM item could not be understood')
    if (item.type === 'dual') {
      if (this.input.dialect !== 'mysql') reject('DUAL is not available here')
      return { type: 'dual' }
    }
    const out: Node = {}
    if (index > 0 && !isEmpty(item.join)) {
      const join = JOINS.get(str(item.join).toUpperCase().replace(/\s+/g, ' '))
      if (!join) reject(`${str(item.join)} is not supported; use [INNER|LEFT|RIGHT|CROSS] JOIN … ON …`)
      out.join = join
    }
    if (!isEmpty(item.on)) out.on = this.expr(item.on, scope)
    if (Array.isArray(item.using) && item.using.length > 0)
      out.using = item.using.map((u) => {
        const col = identifier(u, 'USING column')
        this.columnRefs.push({ qualifier: null, column: col })
        return { type: 'default', value: col }
      })
    const alias = isEmpty(item.as) ? null : identifier(item.as, 'table alias')

    if (isNode(item.expr)) {
      onlyKeys(item, ['expr', 'as', 'join', 'on', 'using'], 'A subquery in FROM')
      const sub = item.expr
      if (!isNode(sub.ast) || sub.ast.type !== 'select')
        reject(
          'Only tables, CTEs and (SELECT …) subqueries may appear in FROM (no table functions such as pragma_*)',
        )
      if (alias) this.baseAliases.set(alias.toLowerCase(), null)
      return { expr: { ast: this.query(sub.ast, scope), parentheses: true }, as: alias, ...out }
    }

    onlyKeys(item, ['db', 'table', 'as', 'join', 'on', 'using'], 'A table reference')
    if (!isEmpty(item.db))
      reject(
        'Tables must be named without a database or schema prefix; system schemas (information_schema, mysql, performance_schema, sys) are not available',
      )
    const name = identifier(item.table, 'table')
    const key = name.toLowerCase()
    if (SYSTEM_TABLES.has(key) || key.startsWith('sqlite_') || key.startsWith('pragma_'))
      reject(`The system table "${name}" is not available; query the model's tables instead`)
    if (scope.ctes.has(key)) {
      if (alias) this.baseAliases.set(alias.toLowerCase(), null)
      else this.baseAliases.set(key, null)
      return { db: null, table: name, as: alias, ...out }
    }
    const dataset = this.input.datasets.get(key)
    if (!dataset) {
      const refusal = this.input.withheld?.get(key)
      if (refusal) throw refusal
      const known = [...this.input.datasets.values()].map((d) => d.table).sort()
      reject(`Unknown table "${name}". Tables you can query: ${known.join(', ')}`)
    }
    const placeholder = `${PLACEHOLDER_PREFIX}${this.tables.length}`
    this.tables.push({ placeholder, dataset })
    const exposed = alias ?? name
    const aliasKey = exposed.toLowerCase()
    const prev = this.baseAliases.get(aliasKey)
    this.baseAliases.set(aliasKey, prev === undefined || prev === dataset ? dataset : null)
    return { db: null, table: placeholder, as: exposed, ...out }
  }

  private groupBy(v: unknown, scope: Scope): Node | null {
    if (isEmpty(v)) return null
    const columns = Array.isArray(v) ? v : isNode(v) ? v.columns : undefined
    if (isNode(v)) {
      onlyKeys(v, ['columns', 'modifiers'], 'GROUP BY')
      if (!isEmpty(v.modifiers)) reject('GROUP BY … WITH ROLLUP is not supported')
    }
    if (!Array.isArray(columns)) reject('GROUP BY could not be understood')
    return { columns: columns.map((c) => this.expr(c, scope)), modifiers: [] }
  }

  private orderBy(v: unknown, scope: Scope): Node[] | null {
    if (isEmpty(v)) return null
    if (!Array.isArray(v)) reject('ORDER BY could not be understood')
    return v.map((o) => {
      if (!isNode(o)) reject('ORDER BY could not be understood')
      onlyKeys(o, ['expr', 'type'], 'ORDER BY')
      const dir = str(o.type).toUpperCase()
      if (dir !== '' && dir !== 'ASC' && dir !== 'DESC') reject('ORDER BY accepts ASC or DESC only')
      return { expr: this.expr(o.expr, scope), type: dir || null }
    })
  }

  private limit(v: unknown): Node | null {
    if (isEmpty(v) || (isNode(v) && isEmpty(v.value))) return null
    if (!isNode(v) || !Array.isArray(v.value)) reject('LIMIT could not be understood')
    onlyKeys(v, ['seperator', 'value'], 'LIMIT')
    const sep = str(v.seperator)
    if (!['', ',', 'offset'].includes(sep)) reject('LIMIT could not be understood')
    const values = v.value.map((n) => {
      if (!isNode(n) || n.type !== 'number' || !/^\d{1,15}$/.test(String(n.value)))
        reject('LIMIT and OFFSET take whole numbers written inline')
      return { type: 'number', value: Number(n.value) }
    })
    if (values.length !== (sep === '' ? 1 : 2)) reject('LIMIT could not be understood')
    return { seperator: sep, value: values }
  }

  /** Expressions: literals, columns, operators, allow-listed functions, CASE, CAST, subqueries. */
  expr(e: unknown, scope: Scope): Node {
    this.enter()
    try {
      return this.exprInner(e, scope)
    } finally {
      this.leave()
    }
  }

  private exprInner(e: unknown, scope: Scope): Node {
    if (!isNode(e)) reject('An expression could not be understood')
    // A subquery used as a value (scalar, IN, EXISTS): node-sql-parser wraps its AST.
    if (isNode(e.ast)) {
      this.sources++
      if (e.ast.type !== 'select') reject('Subqueries must be SELECTs')
      const out: Node = { ast: this.query(e.ast, scope) }
      if (e.parentheses === true) out.parentheses = true
      return out
    }
    const type = str(e.type)
    const paren = e.parentheses === true ? { parentheses: true } : {}
    switch (type) {
      case 'column_ref':
        return { ...this.columnRef(e), ...paren }
      case 'number':
      case 'bigint': {
        onlyKeys(e, ['type', 'value', 'parentheses'], 'A number')
        const value = String(e.value)
        if (!NUMBER.test(value) || !Number.isFinite(Number(value)))
          reject(`The number ${value.slice(0, 32)} is not valid`)
        return { type: 'number', value: typeof e.value === 'number' ? e.value : value, ...paren }
      }
      case 'bool':
      case 'boolean':
        if (typeof e.value !== 'boolean') reject('A boolean literal could not be understood')
        return { type: 'bool', value: e.value, ...paren }
      case 'null':
        return { type: 'null', value: null, ...paren }
      case 'param': {
        const name = str(e.value)
        if (!this.input.params.has(name) || e.prefix != null)
          reject('Parameters are not allowed: write values inline')
        this.usedParams.add(name)
        return { type: 'param', value: name, ...paren }
      }
      case 'date':
      case 'time':
      case 'timestamp':
      case 'datetime': {
        const value = str(e.value)
        if (!TYPED_LITERAL.test(value)) reject(`${type.toUpperCase()} '${value.slice(0, 32)}' is not valid`)
        return { type, value, ...paren }
      }
      case 'star':
        return { type: 'star', value: '*' }
      case 'binary_expr': {
        onlyKeys(e, ['type', 'operator', 'left', 'right', 'parentheses'], 'An operator')
        const op = str(e.operator).toUpperCase()
        if (!this.allow.binary.has(op)) reject(`The operator ${str(e.operator).slice(0, 16)} is not allowed`)
        if (isNode(e.right) && !isEmpty(e.right.escape)) reject('LIKE … ESCAPE is not supported')
        return {
          type: 'binary_expr',
          operator: op,
          left: this.expr(e.left, scope),
          right: this.expr(e.right, scope),
          ...paren,
        }
      }
      case 'unary_expr': {
        onlyKeys(e, ['type', 'operator', 'expr', 'parentheses'], 'An operator')
        const op = str(e.operator).toUpperCase()
        const notExists = op === 'NOT EXISTS' && isNode(e.expr) && isNode(e.expr.ast)
        if (!this.allow.unary.has(op) && !notExists)
          reject(`The operator ${str(e.operator).slice(0, 16)} is not allowed`)
        return { type: 'unary_expr', operator: op, expr: this.expr(e.expr, scope), ...paren }
      }
      case 'expr_list': {
        onlyKeys(e, ['type', 'value', 'parentheses'], 'A list')
        if (!Array.isArray(e.value)) reject('A list could not be understood')
        return { type: 'expr_list', value: e.value.map((v) => this.expr(v, scope)), ...paren }
      }
      case 'function':
        return { ...this.func(e, scope), ...paren }
      case 'aggr_func':
        return { ...this.aggregate(e, scope), ...paren }
      case 'cast':
        return { ...this.cast(e, scope), ...paren }
      case 'case': {
        onlyKeys(e, ['type', 'expr', 'args', 'parentheses'], 'CASE')
        if (!Array.isArray(e.args) || e.args.length === 0) reject('CASE needs at least one WHEN')
        const args = e.args.map((a) => {
          if (!isNode(a) || (a.type !== 'when' && a.type !== 'else')) reject('CASE could not be understood')
          onlyKeys(a, ['type', 'cond', 'result'], 'CASE')
          return a.type === 'when'
            ? { type: 'when', cond: this.expr(a.cond, scope), result: this.expr(a.result, scope) }
            : { type: 'else', result: this.expr(a.result, scope) }
        })
        return { type: 'case', expr: e.expr == null ? null : this.expr(e.expr, scope), args, ...paren }
      }
      case 'interval': {
        onlyKeys(e, ['type', 'expr', 'unit', 'parentheses'], 'INTERVAL')
        const unit = str(e.unit).toUpperCase()
        if (!this.allow.units.has(unit)) reject(`INTERVAL unit ${unit.slice(0, 16)} is not supported`)
        return { type: 'interval', expr: this.expr(e.expr, scope), unit: unit.toLowerCase(), ...paren }
      }
      case 'extract': {
        onlyKeys(e, ['type', 'args', 'parentheses'], 'EXTRACT')
        const args = isNode(e.args) ? e.args : {}
        onlyKeys(args, ['field', 'source'], 'EXTRACT')
        const field = str(args.field).toUpperCase()
        if (!this.allow.units.has(field)) reject(`EXTRACT(${field.slice(0, 16)} …) is not supported`)
        return { type: 'extract', args: { field, source: this.expr(args.source, scope) }, ...paren }
      }
      case 'var':
        reject('Variables (@name, @@name) are not allowed')
        break
      case 'assign':
        reject('Assignments are not allowed')
        break
      case 'single_quote_string':
      case 'double_quote_string':
      case 'string':
        // The lexer turns every string into a parameter; a string here means the parser saw
        // something the lexer did not (e.g. a prefixed literal).
        reject('This kind of string literal is not supported; use plain quoted strings')
        break
      case 'hex_string':
      case 'full_hex_string':
      case 'bit_string':
      case 'natural_string':
        reject('Hex, bit and national string literals are not supported')
        break
      default:
        reject(`Unsupported expression${type ? ` (${type.replace(/_/g, ' ')})` : ''}; simplify the query`)
    }
  }

  private columnRef(e: Node): Node {
    onlyKeys(e, ['type', 'table', 'column', 'parentheses'], 'A column reference')
    if (!isEmpty(e.db) || !isEmpty(e.schema)) reject('Columns must not carry a database or schema prefix')
    const qualifier = isEmpty(e.table) ? null : identifier(e.table, 'table alias')
    if (e.column === '*') return { type: 'column_ref', table: qualifier, column: '*' }
    const column = identifier(e.column, 'column')
    this.columnRefs.push({ qualifier, column })
    return { type: 'column_ref', table: qualifier, column }
  }

  private func(e: Node, scope: Scope): Node {
    onlyKeys(e, ['type', 'name', 'args', 'over', 'parentheses', 'args_parentheses'], 'A function call')
    if (e.args_parentheses === false) reject('Functions must be called with parentheses')
    if (isNode(e.name)) onlyKeys(e.name, ['name'], 'A function name')
    const parts = isNode(e.name) && Array.isArray(e.name.name) ? e.name.name : []
    if (parts.length !== 1 || (isNode(e.name) && !isEmpty(e.name.schema)))
      reject('Functions must be called by their plain name (no schema prefix)')
    const part = parts[0] as unknown
    if (
      !isNode(part) ||
      (part.type !== 'default' && part.type !== 'origin') ||
      typeof part.value !== 'string'
    )
      reject('A function name could not be understood')
    const name = part.value
    const lower = name.toLowerCase()
    if (!IDENT.test(name)) reject(`The function name "${name.slice(0, 32)}" is not valid`)
    const over = e.over == null ? null : this.over(e.over, scope)
    const isWindow = this.allow.window.has(lower)
    if (lower === 'not') {
      // `NOT (a = b)` comes back from the parser as a call of NOT
      const arg = isNode(e.args) && Array.isArray(e.args.value) ? e.args.value : []
      if (arg.length !== 1 || over) reject('NOT takes one condition')
    } else if (lower === 'exists') {
      const arg = isNode(e.args) && Array.isArray(e.args.value) ? e.args.value : []
      if (arg.length !== 1 || !isNode(arg[0]) || !isNode(arg[0].ast))
        reject('EXISTS needs one (SELECT …) subquery')
    } else if (DANGEROUS_FUNCTIONS.has(lower)) {
      reject(`The function ${name.toUpperCase()}() is not allowed in guarded SQL`)
    } else if (isWindow ? !over : !this.allow.scalar.has(lower)) {
      reject(
        isWindow
          ? `${name.toUpperCase()}() needs an OVER (…) clause`
          : `The function ${name.toUpperCase()}() is not on the allow-list of guarded SQL; use common scalar and aggregate functions`,
      )
    }
    if (over && !isWindow && !this.allow.aggregate.has(lower))
      reject(`${name.toUpperCase()}() cannot take OVER (…)`)
    const out: Node = {
      type: 'function',
      name: { name: [{ type: part.type === 'origin' ? 'origin' : 'default', value: name }] },
      over,
    }
    if (e.args != null) {
      if (!isNode(e.args) || e.args.type !== 'expr_list' || !Array.isArray(e.args.value))
        reject(`The arguments of ${name.toUpperCase()}() could not be understood`)
      onlyKeys(e.args, ['type', 'value', 'parentheses'], `${name.toUpperCase()}()`)
      out.args = { type: 'expr_list', value: e.args.value.map((a) => this.expr(a, scope)) }
    }
    return out
  }

  private aggregate(e: Node, scope: Scope): Node {
    onlyKeys(e, ['type', 'name', 'args', 'over', 'parentheses'], 'An aggregate')
    const name = str(e.name)
    if (!this.allow.aggregate.has(name.toLowerCase()) || !IDENT.test(name))
      reject(`The aggregate ${name.toUpperCase().slice(0, 32)}() is not allowed`)
    const args = isNode(e.args) ? e.args : null
    if (!args) reject(`The arguments of ${name.toUpperCase()}() could not be understood`)
    onlyKeys(args, ['expr', 'distinct', 'orderby'], `${name.toUpperCase()}()`)
    if (isNode(args.separator) && !isEmpty(args.separator))
      reject('GROUP_CONCAT … SEPARATOR is not supported; the default separator is a comma')
    const outArgs: Node = { expr: this.expr(args.expr, scope) }
    if (!isEmpty(args.distinct)) {
      if (str(args.distinct).toUpperCase() !== 'DISTINCT') reject('Only DISTINCT may modify an aggregate')
      outArgs.distinct = 'DISTINCT'
    }
    const orderby = this.orderBy(args.orderby, scope)
    if (orderby) outArgs.orderby = orderby
    return {
      type: 'aggr_func',
      name: name.toUpperCase(),
      args: outArgs,
      over: e.over == null ? null : this.over(e.over, scope),
    }
  }

  private over(v: unknown, scope: Scope): Node {
    if (!isNode(v)) reject('OVER (…) could not be understood')
    // MySQL/MariaDB shape: { type: 'window', as_window_specification: { window_specification, parentheses } }
    if (v.type === 'window') {
      onlyKeys(v, ['type', 'as_window_specification'], 'OVER (…)')
      const spec = isNode(v.as_window_specification)
        ? v.as_window_specification.window_specification
        : undefined
      if (!isNode(spec)) reject('Named windows are not supported: write OVER (PARTITION BY … ORDER BY …)')
      onlyKeys(spec, ['partitionby', 'orderby'], 'OVER (…) (window frames are not supported)')
      return {
        type: 'window',
        as_window_specification: {
          window_specification: {
            name: null,
            partitionby: this.partitionBy(spec.partitionby, scope),
            orderby: this.orderBy(spec.orderby, scope),
            window_frame_clause: null,
          },
          parentheses: true,
        },
      }
    }
    // SQLite shape: { partitionby, orderby }
    onlyKeys(v, ['partitionby', 'orderby'], 'OVER (…) (window frames are not supported)')
    if (isEmpty(v.partitionby)) reject('OVER (…) needs PARTITION BY here')
    return { partitionby: this.partitionBy(v.partitionby, scope), orderby: this.orderBy(v.orderby, scope) }
  }

  private partitionBy(v: unknown, scope: Scope): Node[] | null {
    if (isEmpty(v)) return null
    if (!Array.isArray(v)) reject('PARTITION BY could not be understood')
    return v.map((p) => {
      if (!isNode(p)) reject('PARTITION BY could not be understood')
      onlyKeys(p, ['expr', 'as'], 'PARTITION BY')
      return { expr: this.expr(p.expr, scope), as: null }
    })
  }

  private cast(e: Node, scope: Scope): Node {
    onlyKeys(e, ['type', 'keyword', 'expr', 'symbol', 'target', 'parentheses'], 'CAST')
    if (str(e.keyword).toLowerCase() !== 'cast' || str(e.symbol).toLowerCase() !== 'as')
      reject('Only CAST(expr AS type) is supported')
    const targets = Array.isArray(e.target) ? e.target : []
    const t = targets[0] as unknown
    if (targets.length !== 1 || !isNode(t)) reject('CAST needs one target type')
    onlyKeys(t, ['dataType', 'length', 'scale', 'parentheses'], 'CAST (type modifiers are not supported)')
    const dataType = str(t.dataType).toUpperCase()
    if (!this.allow.castTypes.has(dataType))
      reject(
        `CAST to ${dataType.slice(0, 32) || 'this type'} is not supported (use ${[...this.allow.castTypes].join(', ')})`,
      )
    const target: Node = { dataType, suffix: [] }
    for (const k of ['length', 'scale'] as const) {
      if (t[k] == null) continue
      if (!Number.isInteger(t[k]) || (t[k] as number) < 0 || (t[k] as number) > 1000)
        reject('CAST sizes must be small whole numbers')
      target[k] = t[k]
      target.parentheses = true
    }
    return { type: 'cast', keyword: 'cast', expr: this.expr(e.expr, scope), symbol: 'as', target: [target] }
  }

  /** Columns must exist in the principal's view of the tables used (or be aliases defined here). */
  private checkColumns(): void {
    const visible = new Map<Dataset, Set<string>>()
    const columnsOf = (d: Dataset) => {
      let set = visible.get(d)
      if (!set) {
        set = new Set(d.fields.filter((f) => f.column).map((f) => (f.column as string).toLowerCase()))
        visible.set(d, set)
      }
      return set
    }
    const known = new Set<string>(this.aliases)
    for (const t of this.tables) for (const c of columnsOf(t.dataset)) known.add(c)
    for (const { qualifier, column } of this.columnRefs) {
      const key = column.toLowerCase()
      const base = qualifier ? this.baseAliases.get(qualifier.toLowerCase()) : undefined
      if (base) {
        if (!columnsOf(base).has(key))
          reject(
            `Unknown column "${qualifier}.${column}". Columns of ${base.table}: ${[...columnsOf(base)].join(', ')}`,
          )
      } else if (qualifier && base === undefined && !known.has(key)) {
        reject(`Unknown column "${qualifier}.${column}"`)
      } else if (!known.has(key)) {
        reject(`Unknown column "${column}"`)
      }
    }
  }

  private enter(): void {
    if (++this.depth > MAX_DEPTH) reject('The query is nested too deeply')
  }

  private leave(): void {
    this.depth--
  }
}
