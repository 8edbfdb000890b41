import type { ColumnInfo, TableInfo } from '../../db/index.ts'

/** Introspection results written by hand, for engine tests that need no database. */
export const col = (name: string, type: ColumnInfo['type'], extra: Partial<ColumnInfo> = {}): ColumnInfo => ({
  name,
  type,
  rawType: type,
  nullable: true,
  primaryKey: false,
  unique: false,
  ...extra,
})

export const table = (
  name: string,
  columns: ColumnInfo[],
  fks: TableInfo['foreignKeys'] = [],
): TableInfo => ({
  name,
  columns,
  primaryKey: columns.filter((c) => c.primaryKey).map((c) => c.name),
  foreignKeys: fks,
})
