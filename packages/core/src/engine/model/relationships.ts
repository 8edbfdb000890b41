import type { ColumnInfo, DataSource, ForeignKeyInfo, SchemaInfo, TableInfo } from '../../db/index.ts'
import { identifierWords, singular, splitIdentifier, tableWords } from './words.ts'

/**
 * Relationships a schema does not declare: `customer_id` → customers.id, `custId` → tblCustomer.custId,
 * `accountID` → Account.id. A candidate needs a name that points at exactly one table, the type of
 * that table's single-column key, and — when the data source is given — a sample of its values
 * that are (nearly) all keys of that table. Accepted candidates become foreign keys marked
 * `inferred`, so the model, `hub tenant check` and the overrides export say where they came from.
 */

/** Words of a column that refers to another table's key, without the trailing `id` (["customer"]). */
function referenceWords(col: string): string[] | undefined {
  const raw = splitIdentifier(col)
  if (raw.length < 2 || raw.at(-1) !== 'id') return undefined
  return identifierWords(col).slice(0, -1)
}

const sameKind = (a: ColumnInfo, b: ColumnInfo) =>
  a.type === b.type ||
  (a.type === 'integer' && b.type === 'decimal') ||
  (a.type === 'decimal' && b.type === 'integer')

/** The table a column names: its single-column key has the same name, or the table is named like the column. */
function targetOf(
  schema: SchemaInfo,
  table: TableInfo,
  col: ColumnInfo,
): { table: TableInfo; key: ColumnInfo } | undefined {
  const words = referenceWords(col.name)
  if (!words || words.length === 0) return undefined
  const phrase = words.join(' ')
  const hits: { table: TableInfo; key: ColumnInfo }[] = []
  for (const t of schema.tables) {
    if (t.primaryKey.length !== 1) continue
    const key = t.columns.find((c) => c.name === t.primaryKey[0])
    if (!key || !sameKind(key, col)) continue
    if (t === table && key.name === col.name) continue
    const tw = tableWords(t.name)
    const names = [tw.join(' '), [...tw.slice(0, -1), singular(tw.at(-1) ?? '')].join(' ')]
    const lastOnly = singular(tw.at(-1) ?? '')
    const sameKeyName = key.name.toLowerCase() === col.name.toLowerCase() && t !== table
    // `manager_id` in employees stays unresolved: a role name is not a table name
    if (sameKeyName || names.includes(phrase) || (words.length > 1 && lastOnly === phrase))
      hits.push({ table: t, key })
  }
  return hits.length === 1 ? hits[0] : undefined
}

/** Candidate keys by name and type: every `<x>_id` column not already in a declared foreign key. */
export function candidateKeys(schema: SchemaInfo): { table: string; fk: ForeignKeyInfo }[] {
  const out: { table: string; fk: ForeignKeyInfo }[] = []
  for (const t of schema.tables) {
    const declared = new Set(t.foreignKeys.flatMap((f) => f.columns))
    for (const c of t.columns) {
      if (declared.has(c.name) || (t.primaryKey.length === 1 && t.primaryKey[0] === c.name)) continue
      const target = targetOf(schema, t, c)
      if (!target) continue
      out.push({
        table: t.name,
        fk: { inferred: true, columns: [c.name], refTable: target.table.name, refColumns: [target.key.name] },
      })
    }
  }
  return out
}

/**
 * The schema with its inferred foreign keys added. With a data source, a candidate is kept only when
 * none of its values is missing from the referenced table (a column with no values yet is kept on
 * its name and type) (an orphan anywhere, not only
 * among the smallest values, would make an inner join drop rows silently: a sample of the first 200
 * ids passed a column whose ids ran four times past the referenced table's); without one, name and
 * type alone decide.
 */
export async function withInferredKeys(schema: SchemaInfo, ds?: DataSource): Promise<SchemaInfo> {
  const accepted = new Map<string, ForeignKeyInfo[]>()
  for (const { table, fk } of candidateKeys(schema)) {
    const col = fk.columns[0] as string
    if (ds) {
      const ref = fk.refColumns[0] as string
      const any = await ds
        .knex(table)
        .whereNotNull(col)
        .first(ds.knex.raw('1 as ??', ['x']))
      if (any) {
        const orphan = await ds
          .knex(table)
          .whereNotNull(col)
          .whereNotExists(
            ds
              .knex(fk.refTable)
              .select(ds.knex.raw('1'))
              .whereRaw('?? = ??', [`${fk.refTable}.${ref}`, `${table}.${col}`]),
          )
          .first(ds.knex.raw('1 as ??', ['x']))
        if (orphan) continue
      }
    }
    accepted.set(table, [...(accepted.get(table) ?? []), fk])
  }
  if (accepted.size === 0) return schema
  return {
    ...schema,
    tables: schema.tables.map((t) =>
      accepted.has(t.name) ? { ...t, foreignKeys: [...t.foreignKeys, ...(accepted.get(t.name) ?? [])] } : t,
    ),
  }
}
