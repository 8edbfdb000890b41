import { createRequire } from 'node:module'
import knexFactory, { type Knex } from 'knex'
import type NodeSqlParser from 'node-sql-parser'
import type { Dialect } from '../db/index.ts'
import { SQLITE_DEADLINE_FUNCTION } from '../engine/execute.ts'
import type { Dataset, SemanticModel } from '../engine/model-types.ts'
import { resolveRowScopes, scopedTableSubquery, scopeForTable } from '../engine/policy.ts'
import { visibleModel, withheldDatasets, withheldError } from '../engine/visibility.ts'
import { HubError } from '../errors.ts'
import type { Principal } from '../principal.ts'
import { lexSql, PARAM_PREFIX } from './lexer.ts'
import { PLACEHOLDER_PREFIX, Rebuilder } from './rebuild.ts'
import { reject } from './reject.ts'

export interface GuardOptions {
  dialect: Dialect
  /** The tenant's full semantic model; the guard derives the principal's view and row scopes from it. */
  model: SemanticModel
  principal: Principal
  /** Rows the caller will return; the statement is capped at maxRows + 1 so truncation is visible. */
  maxRows: number
}

export interface GuardedSql {
  /** Regenerated SQL with `?` placeholders; never the caller's text. */
  sql: string
  bindings: unknown[]
  /** Model tables the statement reads (sorted). */
  tables: string[]
}

type SqlParser = InstanceType<typeof NodeSqlParser.Parser>
const require = createRequire(import.meta.url)
const parsers = new Map<Dialect, SqlParser>()

/**
 * The grammar of one dialect, loaded on first use: the all-dialects bundle costs ~110 MB of RSS
 * under tsx (mostly its source map) and most hub processes never parse SQL.
 */
function parserFor(dialect: Dialect): SqlParser {
  let p = parsers.get(dialect)
  if (!p) {
    const mod = require(`node-sql-parser/build/${parserBuild[dialect]}.js`) as typeof NodeSqlParser
    p = new mod.Parser()
    parsers.set(dialect, p)
  }
  return p
}
// MySQL's grammar rather than node-sql-parser's MariaDB one: the latter treats `status` as reserved.
const parserDatabase: Record<Dialect, string> = { mysql: 'MySQL', sqlite: 'sqlite', postgresql: 'PostgresQL' }
const parserBuild: Record<Dialect, string> = { mysql: 'mysql', sqlite: 'sqlite', postgresql: 'postgresql' }
const knexClient: Record<Dialect, string> = { mysql: 'mysql2', sqlite: 'better-sqlite3', postgresql: 'pg' }

/** Query builders without a connection, used only to render scope subqueries. */
const builders = new Map<Dialect, Knex>()
function builder(dialect: Dialect): Knex {
  let k = builders.get(dialect)
  if (!k) {
    k = knexFactory({ client: knexClient[dialect], useNullAsDefault: true })
    builders.set(dialect, k)
  }
  return k
}

/**
 * Check SQL written by a person or an assistant and return a safe equivalent: exactly one
 * read-only SELECT over the principal's visible tables and columns, with the row policy applied to
 * every table reference and the row cap in place. Throws HubError('SQL_REJECTED') otherwise, or
 * HubError('FORBIDDEN') for a table the principal's row policy cannot scope (`withheldDatasets`).
 *
 * Pipeline: lex (dialect rules; strings → parameters) → parse (node-sql-parser) → validate and
 * rebuild a canonical AST (tables → placeholders) → sqlify → splice each placeholder with the
 * knex-rendered `(SELECT visible columns FROM t WHERE scope)` and each parameter with `?`, collecting
 * bindings in text order.
 */
export function guardSql(sql: string, options: GuardOptions): GuardedSql {
  try {
    return guard(sql, options)
  } catch (err) {
    if (err instanceof HubError) throw err
    reject('The SQL could not be checked; simplify it and try again', err)
  }
}

function guard(sql: string, options: GuardOptions): GuardedSql {
  if (typeof sql !== 'string') reject('The SQL must be a string')
  if (!Number.isInteger(options.maxRows) || options.maxRows < 0)
    throw new HubError('INTERNAL', 'maxRows must be >= 0')
  const { dialect } = options
  const database = parserDatabase[dialect]
  const lexed = lexSql(sql, dialect)

  let parsed: unknown
  try {
    parsed = parserFor(dialect).astify(lexed.text, { database })
  } catch (err) {
    reject(parseErrorMessage(err), err)
  }
  if (dialect === 'postgresql') toCommonShape(parsed)
  const statements = Array.isArray(parsed) ? parsed : [parsed]
  if (statements.length !== 1) reject('Only one statement is allowed: send a single SELECT')

  const visible = visibleModel(options.model, options.principal)
  // One entry per table; several datasets on one table share it (their scopes are ANDed below).
  const datasets = new Map<string, Dataset>()
  for (const d of visible.datasets) {
    const key = d.table.toLowerCase()
    const prev = datasets.get(key)
    datasets.set(key, prev ? { ...prev, fields: [...prev.fields, ...d.fields] } : d)
  }
  const withheld = new Map(
    withheldDatasets(options.model, options.principal).map((w) => [w.table.toLowerCase(), withheldError(w)]),
  )
  const rebuilder = new Rebuilder({ dialect, datasets, params: new Set(lexed.strings.keys()), withheld })
  const ast = rebuilder.statement(statements[0])
  if (rebuilder.usedParams.size !== lexed.strings.size)
    reject(
      'Part of the SQL was not understood (a string literal is in an unsupported place); simplify the query',
    )

  const wrap = capRows(ast, options.maxRows + 1)
  const text = parserFor(dialect).sqlify(ast as never, { database })

  const scopes = resolveRowScopes(options.model, options.principal)
  const knex = builder(dialect)
  // SQLite cannot interrupt a running statement. When joins or subqueries could multiply the work,
  // every table scan calls the executor's deadline function, which aborts the statement in time.
  const deadline = dialect === 'sqlite' && rebuilder.sources > 1
  const subqueries = new Map<string, Knex.Sql>()
  for (const ref of rebuilder.tables) {
    const columns = [...new Set(ref.dataset.fields.flatMap((f) => (f.column ? [f.column] : [])))]
    if (columns.length === 0) reject(`You cannot see any column of ${ref.dataset.table}`)
    const scope = scopeForTable(scopes, ref.dataset.table)
    const sub = scopedTableSubquery(knex, ref.dataset.table, scope, columns)
    if (deadline) sub.whereRaw(`${SQLITE_DEADLINE_FUNCTION}()`)
    subqueries.set(ref.placeholder, sub.toSQL())
  }

  const bindings: unknown[] = []
  const token = new RegExp(`:(${PARAM_PREFIX}\\d+)\\b|[\`"](${PLACEHOLDER_PREFIX}\\d+)[\`"]`, 'g')
  let out = text.replace(token, (_m, param: string | undefined, table: string | undefined) => {
    if (param) {
      bindings.push(lexed.strings.get(param))
      return '?'
    }
    const sub = subqueries.get(table ?? '')
    if (!sub) throw new HubError('INTERNAL', 'Unknown placeholder in guarded SQL')
    bindings.push(...sub.bindings)
    return `(${sub.sql})`
  })
  if (wrap) out = `select * from (${out}) as __nl2q_q limit ${options.maxRows + 1}`
  // Every `?` must be one of ours: identifiers and literals were validated to contain none.
  if ((out.match(/\?/g) ?? []).length !== bindings.length)
    throw new HubError('INTERNAL', 'Guarded SQL placeholders do not match its bindings', {
      cause: { sql: out },
    })

  return { sql: out, bindings, tables: [...new Set(rebuilder.tables.map((t) => t.dataset.table))].sort() }
}

/**
 * node-sql-parser's PostgreSQL grammar wraps a column name as `{ expr: { type, value } }` and tags
 * every select-list item `type: 'expr'`, gives a CTE's statement bare and an absent LIMIT as an
 * empty list; the MySQL and SQLite grammars give a name as a string, no tag, `{ ast }` and null. Rewrite to that common shape (in place, bounded depth) so one rebuilder validates all three;
 * the PostgreSQL sqlify accepts it and quotes the names with "…".
 */
function toCommonShape(node: unknown, depth = 0): void {
  if (!node || typeof node !== 'object' || depth > 400) return
  if (Array.isArray(node)) {
    for (const n of node) toCommonShape(n, depth + 1)
    return
  }
  const n = node as Record<string, unknown>
  if (n.type === 'column_ref' && n.column && typeof n.column === 'object') {
    const inner = (n.column as { expr?: { value?: unknown } }).expr
    if (inner && typeof inner.value === 'string') n.column = inner.value
  }
  // a CTE's statement comes bare, not as { ast }; an absent LIMIT as an empty value list
  if (Array.isArray(n.with))
    for (const cte of n.with as Record<string, unknown>[]) {
      const stmt = cte?.stmt as Record<string, unknown> | undefined
      if (stmt && typeof stmt === 'object' && !('ast' in stmt) && typeof stmt.type === 'string')
        cte.stmt = { ast: stmt }
    }
  if (n.type === 'select' && isEmptyLimit(n.limit)) n.limit = null
  // ROW_NUMBER(), LAG(x) …: a `window_func` node here, a plain function with OVER elsewhere
  if (n.type === 'window_func' && typeof n.name === 'string') {
    n.type = 'function'
    n.name = { name: [{ type: 'default', value: n.name }] }
    n.args ??= { type: 'expr_list', value: [] }
  }
  if (n.type === 'window' || 'window_specification' in n) {
    const spec = n.window_specification as Record<string, unknown> | undefined
    if (spec && Array.isArray(spec.partitionby))
      spec.partitionby = (spec.partitionby as Record<string, unknown>[]).map((p) =>
        p && p.type === 'expr' && 'expr' in p ? { expr: p.expr, as: null } : p,
      )
  }
  if (Array.isArray(n.orderby))
    for (const o of n.orderby as Record<string, unknown>[])
      if (o && 'nulls' in o && o.nulls == null) delete o.nulls
  if (n.type === 'select' && Array.isArray(n.columns))
    for (const c of n.columns as Record<string, unknown>[])
      if (c && typeof c === 'object' && c.type === 'expr' && 'expr' in c) delete c.type
  for (const [k, v] of Object.entries(n))
    if (k !== 'loc' && v && typeof v === 'object') toCommonShape(v, depth + 1)
}

function isEmptyLimit(limit: unknown): boolean {
  return limit && typeof limit === 'object' && Array.isArray((limit as { value?: unknown }).value)
    ? (limit as { value: unknown[] }).value.length === 0
    : false
}

/**
 * Cap the rows of the outermost query. A plain SELECT gets (or keeps a smaller) LIMIT in its own AST;
 * a set operation is wrapped instead, because its LIMIT placement is ambiguous. Wrapping a plain
 * SELECT would break `SELECT * FROM a JOIN b` on MySQL (duplicate column names in a derived table).
 */
function capRows(ast: Record<string, unknown>, cap: number): boolean {
  if (ast._next) return true
  const limit = ast.limit as { seperator: string; value: { type: string; value: number }[] } | null
  if (!limit) {
    ast.limit = { seperator: '', value: [{ type: 'number', value: cap }] }
    return false
  }
  const countIndex = limit.seperator === ',' ? 1 : 0
  const count = limit.value[countIndex]
  if (count && count.value > cap) count.value = cap
  return false
}

function parseErrorMessage(err: unknown): string {
  const e = err as { location?: { start?: { line?: number } }; found?: unknown }
  const line = e.location?.start?.line
  const found = typeof e.found === 'string' ? e.found : null
  const where = line ? ` near line ${line}${found ? ` ("${found === ':' ? 'a string' : found}")` : ''}` : ''
  return `The SQL could not be parsed${where}: only one read-only SELECT (optionally WITH … and UNION) over the model's tables is accepted`
}
