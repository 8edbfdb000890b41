import type { DataSource } from '../../db/index.ts'
import type { SemanticModel } from '../model-types.ts'
import { type CodeKind, detectCodes } from './geo.ts'

/**
 * Distinct values of the low-cardinality text columns of a tenant, read once when the tenant is
 * opened, so the parser recognises "Tirosint", "Northeast" or "Texas" without touching the database.
 */
export interface IndexedColumn {
  dataset: string
  field: string
  /** Distinct values, most frequent first. */
  values: string[]
  /** The values are US state or country codes: their names are recognised too. */
  codes?: CodeKind
}

export interface ValueIndex {
  columns: IndexedColumn[]
  builtAt: string
}

export interface ValueIndexOptions {
  /** A column with more distinct values than this is not indexed (names, e-mails, ids). */
  maxDistinct?: number
  maxValueLength?: number
  /** Bound on the total number of values held per tenant. */
  maxTotal?: number
}

export const emptyValueIndex = (): ValueIndex => ({ columns: [], builtAt: new Date().toISOString() })

/** Read the distinct values of every indexable column (bounded per column and in total). */
export async function buildValueIndex(
  ds: DataSource,
  model: SemanticModel,
  options: ValueIndexOptions = {},
): Promise<ValueIndex> {
  const maxDistinct = options.maxDistinct ?? 200
  const maxLen = options.maxValueLength ?? 80
  let budget = options.maxTotal ?? 20_000
  const columns: IndexedColumn[] = []
  for (const dataset of model.datasets) {
    for (const field of dataset.fields) {
      if (!field.indexed || !field.column || field.type !== 'string' || field.kind === 'key') continue
      if (budget <= 0) break
      const rows = (await ds
        .knex(dataset.table)
        .select(ds.knex.ref(field.column).as('v'))
        .count({ n: '*' })
        .whereNotNull(field.column)
        .groupBy(field.column)
        .orderBy('n', 'desc')
        .limit(maxDistinct + 1)) as { v: unknown; n: number }[]
      if (rows.length > maxDistinct) continue
      const values = rows
        .map((r) => (r.v === null || r.v === undefined ? '' : String(r.v)))
        .filter((v) => v.trim() !== '' && v.length <= maxLen)
      if (values.length === 0) continue
      budget -= values.length
      const codes = detectCodes(values)
      columns.push({ dataset: dataset.name, field: field.name, values, ...(codes ? { codes } : {}) })
    }
  }
  return { columns, builtAt: new Date().toISOString() }
}
