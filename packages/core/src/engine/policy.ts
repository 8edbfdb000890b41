import type { Knex } from 'knex'
import type { Principal } from '../principal.ts'
import { declaredOnly } from './model/join-graph.ts'
import type { Dataset, RowPolicyRule, SemanticModel } from './model-types.ts'

/**
 * Row and column policy, resolved once per (model, principal) and shared by the plan compiler and
 * guarded SQL. Scopes are plain data (no SQL strings) so that they can be compared, cached by value
 * and turned into SQL by knex with bindings.
 */

/** One condition on a table's rows. Conditions of a scope are ANDed. */
export type ScopePredicate =
  /** `column IN (values)` on the scoped table itself. */
  | { kind: 'in'; column: string; values: string[] }
  /**
   * `(columns) IN (SELECT parentColumns FROM parent WHERE <parent scope>)`: the row's foreign key
   * must point at a visible parent row.
   */
  | {
      kind: 'parent'
      columns: string[]
      parent: { dataset: string; table: string; columns: string[] }
      scope: RowScope
    }

export type RowScope =
  /** No rows at all: a rule applies but the principal lacks the attribute (fail closed). */
  | { kind: 'deny' }
  /** Rows for which every predicate holds. */
  | { kind: 'where'; predicates: ScopePredicate[] }

export interface TableScope {
  dataset: string
  table: string
  scope: RowScope
}

/** Restricted datasets by name (sorted); a dataset that is absent is unrestricted. */
export type RowScopes = Record<string, TableScope>

/** Does this rule bind the principal? Omitted roles = every role except admin. */
export function ruleApplies(rule: RowPolicyRule, principal: Principal): boolean {
  if (rule.roles) return principal.roles.some((r) => rule.roles?.includes(r))
  if (principal.roles.includes('admin')) return false
  return true
}

function datasetOf(model: SemanticModel, name: string): Dataset | undefined {
  return model.datasets.find((d) => d.name === name)
}

function columnOf(dataset: Dataset, name: string): string {
  const field = dataset.fields.find((f) => f.name === name || f.column === name)
  return field?.column ?? name
}

/**
 * The rules that bind the principal: they apply to one of its roles and, for an optional rule, the
 * principal carries the attribute. Carrying it with no values still binds (and denies): emptying
 * someone's list must not widen what they see.
 */
export function bindingRules(model: SemanticModel, principal: Principal): RowPolicyRule[] {
  return model.rowPolicies.filter(
    (r) =>
      ruleApplies(r, principal) &&
      (r.in.required !== false || principal.attributes[r.in.attribute] !== undefined),
  )
}

function ownPredicates(model: SemanticModel, principal: Principal, dataset: Dataset): RowScope | null {
  const rules = bindingRules(model, principal)
    .filter((r) => r.dataset === dataset.name)
    .sort((a, b) => a.column.localeCompare(b.column) || a.in.attribute.localeCompare(b.in.attribute))
  if (rules.length === 0) return null
  const predicates: ScopePredicate[] = []
  const seen = new Set<string>()
  for (const rule of rules) {
    const values = principal.attributes[rule.in.attribute]
    if (!values || values.length === 0) return { kind: 'deny' }
    const p: ScopePredicate = {
      kind: 'in',
      column: columnOf(dataset, rule.column),
      values: [...new Set(values)].sort(),
    }
    // two rules for two of the principal's roles often say the same thing
    if (!seen.has(predicateKey(p))) {
      seen.add(predicateKey(p))
      predicates.push(p)
    }
  }
  return { kind: 'where', predicates }
}

/** Translate a parent's scope into the child's predicate for one foreign key. */
function throughForeignKey(
  childColumns: string[],
  parent: Dataset,
  parentColumns: string[],
  parentScope: RowScope,
): ScopePredicate[] | 'deny' {
  if (parentScope.kind === 'deny') return 'deny'
  // A parent condition on the referenced column itself carries over to the child's FK column
  // (hcps.territory_id IN (…) instead of a subquery on territories); the rest needs a subquery.
  const direct: ScopePredicate[] = []
  const rest: ScopePredicate[] = []
  for (const p of parentScope.predicates) {
    const i = p.kind === 'in' ? parentColumns.indexOf(p.column) : -1
    const childColumn = childColumns[i]
    if (p.kind === 'in' && childColumn !== undefined) direct.push({ ...p, column: childColumn })
    else rest.push(p)
  }
  if (rest.length > 0)
    direct.push({
      kind: 'parent',
      columns: childColumns,
      parent: { dataset: parent.name, table: parent.table, columns: parentColumns },
      scope: { kind: 'where', predicates: rest },
    })
  return direct
}

function predicateKey(p: ScopePredicate): string {
  return JSON.stringify(p)
}

/**
 * For every dataset, the row restriction that applies to the principal: the datasets named by
 * rules, and (transitively) every dataset that reaches one of them by foreign keys. When a dataset
 * reaches restricted parents by several paths, every path's condition must hold.
 */
export function resolveRowScopes(model: SemanticModel, principal: Principal): RowScopes {
  const memo = new Map<string, RowScope | null>()
  const visiting = new Set<string>()

  const resolve = (name: string): RowScope | null => {
    if (memo.has(name)) return memo.get(name) ?? null
    const dataset = datasetOf(model, name)
    if (!dataset) return null
    // A foreign-key cycle back to a dataset being resolved adds nothing beyond the rules on the path.
    if (visiting.has(name)) return ownPredicates(model, principal, dataset)
    visiting.add(name)
    const own = ownPredicates(model, principal, dataset)
    let scope: RowScope | null = own
    if (own?.kind !== 'deny') {
      const predicates: ScopePredicate[] = own ? [...own.predicates] : []
      const seen = new Set(predicates.map(predicateKey))
      let denied = false
      const parents = declaredOnly(model)
        .joins.filter((j) => j.from.dataset === name && j.to.dataset !== name)
        .sort(
          (a, b) =>
            a.to.dataset.localeCompare(b.to.dataset) ||
            a.from.columns.join(',').localeCompare(b.from.columns.join(',')),
        )
      for (const join of parents) {
        const parent = datasetOf(model, join.to.dataset)
        if (!parent) continue
        const parentScope = resolve(parent.name)
        if (!parentScope) continue
        const carried = throughForeignKey(
          join.from.columns.map((c) => columnOf(dataset, c)),
          parent,
          join.to.columns.map((c) => columnOf(parent, c)),
          parentScope,
        )
        if (carried === 'deny') {
          denied = true
          break
        }
        for (const p of carried) {
          const key = predicateKey(p)
          if (!seen.has(key)) {
            seen.add(key)
            predicates.push(p)
          }
        }
      }
      if (denied) scope = { kind: 'deny' }
      else if (predicates.length > 0) scope = { kind: 'where', predicates }
    }
    visiting.delete(name)
    memo.set(name, scope)
    return scope
  }

  const out: RowScopes = {}
  for (const dataset of [...model.datasets].sort((a, b) => a.name.localeCompare(b.name))) {
    const scope = resolve(dataset.name)
    if (scope) out[dataset.name] = { dataset: dataset.name, table: dataset.table, scope }
  }
  return out
}

/**
 * The scope of a physical table (guarded SQL knows tables, not datasets); undefined = unrestricted.
 * When several datasets describe one table, every one of their scopes applies.
 */
export function scopeForTable(scopes: RowScopes, table: string): RowScope | undefined {
  const found = Object.values(scopes).filter((entry) => entry.table === table)
  if (found.length === 0) return undefined
  if (found.length === 1) return found[0]?.scope
  const predicates: ScopePredicate[] = []
  const seen = new Set<string>()
  for (const { scope } of found) {
    if (scope.kind === 'deny') return scope
    for (const p of scope.predicates) {
      const key = predicateKey(p)
      if (!seen.has(key)) {
        seen.add(key)
        predicates.push(p)
      }
    }
  }
  return { kind: 'where', predicates }
}

/** Aliases of the scope subqueries, by nesting depth (deterministic SQL; `__nl2q` is reserved). */
function scopeAlias(depth: number): string {
  return `__nl2q_s${depth}`
}

function addPredicates(qb: Knex.QueryBuilder, alias: string, scope: RowScope, depth: number): void {
  if (scope.kind === 'deny') {
    qb.whereRaw('1 = 0')
    return
  }
  for (const p of scope.predicates) {
    if (p.kind === 'in') {
      if (p.values.length === 0) qb.whereRaw('1 = 0')
      else qb.whereIn(`${alias}.${p.column}`, p.values)
      continue
    }
    const inner = scopeAlias(depth + 1)
    const [childColumn] = p.columns
    const [parentColumn] = p.parent.columns
    if (p.columns.length === 1 && p.parent.columns.length === 1 && childColumn && parentColumn) {
      qb.whereIn(`${alias}.${childColumn}`, function (this: Knex.QueryBuilder) {
        this.select(`${inner}.${parentColumn}`).from({ [inner]: p.parent.table })
        addPredicates(this, inner, p.scope, depth + 1)
      })
    } else {
      // Composite keys: a correlated EXISTS works on every dialect (row-value IN does not everywhere).
      qb.whereExists(function (this: Knex.QueryBuilder) {
        this.select(this.client.raw('1')).from({ [inner]: p.parent.table })
        p.columns.forEach((c, i) => {
          this.whereRaw('??.?? = ??.??', [inner, p.parent.columns[i] ?? c, alias, c])
        })
        addPredicates(this, inner, p.scope, depth + 1)
      })
    }
  }
}

/** Add a scope's predicate to a knex query that references `table` as `alias`; no scope = no change. */
export function applyRowScope(
  qb: Knex.QueryBuilder,
  _table: string,
  alias: string,
  scope: RowScope | undefined,
): Knex.QueryBuilder {
  if (scope) addPredicates(qb, alias, scope, 0)
  return qb
}

/**
 * `SELECT <columns> FROM table WHERE <scope>` as a knex builder, usable as a derived table that
 * stands in for the table. `columns` defaults to `*`.
 */
export function scopedTableSubquery(
  knex: Knex,
  table: string,
  scope: RowScope | undefined,
  columns?: string[],
): Knex.QueryBuilder {
  const alias = scopeAlias(0)
  const qb = knex.from({ [alias]: table })
  if (columns && columns.length > 0) qb.select(columns.map((c) => `${alias}.${c}`))
  else qb.select(`${alias}.*`)
  if (scope) addPredicates(qb, alias, scope, 0)
  return qb
}
