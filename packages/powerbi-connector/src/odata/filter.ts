import { HubError, type PlanFilter, type Scalar } from '@nl2q/core'
import { naiveUtc } from './edm.ts'
import type { EntityProperty, EntitySet } from './entity-sets.ts'
import {
  type Comparison,
  type FilterNode,
  type Literal,
  type Operand,
  parseFilterSyntax,
} from './odata-syntax.ts'

/**
 * `$filter` → the plan's filter (fields are property names here; the caller maps them to
 * `dataset.field`). Literals are typed against the property: a value of the wrong type is a 400,
 * an expression the plan cannot express is a 501 — never dropped.
 */

const bad = (message: string) => new HubError('BAD_REQUEST', message)
const notImplemented = (message: string) => new HubError('NOT_IMPLEMENTED', message, { status: 501 })

const PLAN_OP: Record<Comparison, 'eq' | 'ne' | 'gt' | 'gte' | 'lt' | 'lte'> = {
  eq: 'eq',
  ne: 'ne',
  gt: 'gt',
  ge: 'gte',
  lt: 'lt',
  le: 'lte',
}
const MIRROR: Record<Comparison, Comparison> = { eq: 'eq', ne: 'ne', gt: 'lt', ge: 'le', lt: 'gt', le: 'ge' }

const NUMERIC_LITERALS = new Set([
  'Edm.SByte',
  'Edm.Byte',
  'Edm.Int16',
  'Edm.Int32',
  'Edm.Int64',
  'Edm.Decimal',
  'Edm.Double',
  'Edm.Single',
])

/** Always false, without an empty IN list (which not every dialect accepts). */
const never = (field: string): PlanFilter => ({
  op: 'and',
  args: [
    { op: 'is_null', field },
    { op: 'not_null', field },
  ],
})

function numberValue(text: string): Scalar {
  const n = Number(text)
  if (Number.isNaN(n)) throw bad(`'${text}' is not a number`)
  // Beyond 2^53 the text is exact and the databases compare it as a number.
  return Number.isInteger(n) && !Number.isSafeInteger(n) ? text : n
}

/** A literal as a plain value comparable with the property (throws on a type mismatch). */
export function literalValue(prop: EntityProperty, lit: Literal): Scalar {
  const mismatch = () =>
    bad(`${prop.name} is ${prop.type}; ${lit.edm} '${lit.text}' cannot be compared with it`)
  switch (prop.type) {
    case 'Edm.String':
      if (lit.edm !== 'Edm.String') throw mismatch()
      return lit.text
    case 'Edm.Int64':
    case 'Edm.Decimal':
    case 'Edm.Double':
      if (!NUMERIC_LITERALS.has(lit.edm)) throw mismatch()
      return numberValue(lit.text)
    case 'Edm.Boolean':
      if (lit.edm !== 'Edm.Boolean') throw mismatch()
      return lit.text.toLowerCase() === 'true'
    case 'Edm.Date':
      if (lit.edm === 'Edm.Date') return lit.text
      throw mismatch()
    case 'Edm.DateTimeOffset':
      if (lit.edm === 'Edm.DateTimeOffset') return naiveUtc(lit.text)
      if (lit.edm === 'Edm.Date') return `${lit.text} 00:00:00`
      throw mismatch()
  }
}

/**
 * A Date property compared with a DateTimeOffset literal (what an incremental-refresh RangeStart may
 * fold to): the literal's wall-clock date and time are used; a time after midnight moves the bound.
 */
function dateVersusTimestamp(field: string, op: Comparison, text: string): PlanFilter {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?/.exec(text)
  if (!m?.[1]) throw bad(`'${text}' is not a valid DateTimeOffset`)
  const day = m[1]
  const midnight = [m[2], m[3], m[4] ?? '00'].every((x) => Number(x) === 0) && !/[1-9]/.test(m[5] ?? '')
  if (midnight) return { op: PLAN_OP[op], field, value: day }
  switch (op) {
    case 'eq':
      return never(field)
    case 'ne':
      return { op: 'not_null', field }
    case 'gt':
    case 'ge':
      return { op: 'gt', field, value: day }
    default:
      return { op: 'lte', field, value: day }
  }
}

function property(set: EntitySet, name: string): EntityProperty {
  const prop = set.properties.find((p) => p.name === name)
  if (!prop) throw bad(`'${name}' is not a property of ${set.name}`)
  return prop
}

function comparison(set: EntitySet, op: Comparison, left: Operand, right: Operand): PlanFilter {
  if (left.kind === 'literal' && right.kind === 'property') return comparison(set, MIRROR[op], right, left)
  if (left.kind !== 'property' || right.kind !== 'literal') {
    const raw = left.kind === 'other' ? left.raw : right.kind === 'other' ? right.raw : 'property to property'
    throw notImplemented(`$filter: only comparisons of a property with a literal are supported (${raw})`)
  }
  const prop = property(set, left.name)
  const lit = right.literal
  if (lit.edm === 'null') {
    if (op === 'eq') return { op: 'is_null', field: prop.name }
    if (op === 'ne') return { op: 'not_null', field: prop.name }
    throw bad(`${prop.name} ${op} null: null compares only with eq and ne`)
  }
  if (prop.type === 'Edm.Date' && lit.edm === 'Edm.DateTimeOffset')
    return dateVersusTimestamp(prop.name, op, lit.text)
  if (prop.type === 'Edm.Boolean' && op !== 'eq' && op !== 'ne')
    throw bad(`${prop.name} is Boolean: use eq or ne`)
  return { op: PLAN_OP[op], field: prop.name, value: literalValue(prop, lit) }
}

const STRING_METHODS = new Set(['contains', 'startswith', 'endswith'])

function call(set: EntitySet, method: string, args: Operand[]): PlanFilter {
  const name = method.toLowerCase()
  if (!STRING_METHODS.has(name)) throw notImplemented(`$filter: the function ${method}() is not supported`)
  const [target, needle] = args
  if (args.length !== 2 || target?.kind !== 'property' || needle?.kind !== 'literal')
    throw notImplemented(`$filter: ${method}() is supported as ${method}(Property,'text')`)
  const prop = property(set, target.name)
  if (prop.type !== 'Edm.String' || needle.literal.edm !== 'Edm.String')
    throw bad(`${method}() needs a String property and a string literal`)
  return { op: name as 'contains' | 'startswith' | 'endswith', field: prop.name, value: needle.literal.text }
}

function translate(set: EntitySet, node: FilterNode): PlanFilter {
  switch (node.kind) {
    case 'and':
    case 'or': {
      // Flatten chains (a and b and c) so that plans stay shallow.
      const args: PlanFilter[] = []
      for (const side of [node.left, node.right]) {
        const f = translate(set, side)
        if (f.op === node.kind && 'args' in f) args.push(...f.args)
        else args.push(f)
      }
      return { op: node.kind, args }
    }
    case 'not':
      return { op: 'not', arg: translate(set, node.arg) }
    case 'compare':
      return comparison(set, node.op, node.left, node.right)
    case 'call':
      return call(set, node.method, node.args)
    case 'member': {
      const prop = property(set, node.name)
      if (prop.type !== 'Edm.Boolean')
        throw bad(`$filter: ${prop.name} is not Boolean; compare it with a value (${prop.name} eq …)`)
      return { op: 'eq', field: prop.name, value: true }
    }
    case 'in': {
      const prop = property(set, node.property)
      const values = node.values.filter((v) => v.edm !== 'null').map((v) => literalValue(prop, v))
      const withNull = values.length !== node.values.length
      const inList: PlanFilter = values.length > 0 ? { op: 'in', field: prop.name, values } : never(prop.name)
      return withNull ? { op: 'or', args: [inList, { op: 'is_null', field: prop.name }] } : inList
    }
  }
}

/** Parse and type a `$filter` against an entity set. */
export function parseFilter(set: EntitySet, text: string): PlanFilter {
  return translate(set, parseFilterSyntax(text))
}

/** Rename the fields of a filter (property names → `dataset.field`). */
export function mapFilterFields(filter: PlanFilter, rename: (field: string) => string): PlanFilter {
  if (filter.op === 'and' || filter.op === 'or')
    return {
      op: filter.op,
      args: (filter as { args: PlanFilter[] }).args.map((f) => mapFilterFields(f, rename)),
    }
  if (filter.op === 'not')
    return { op: 'not', arg: mapFilterFields((filter as { arg: PlanFilter }).arg, rename) }
  return {
    ...(filter as { field: string }),
    field: rename((filter as { field: string }).field),
  } as PlanFilter
}
