import type { Knex } from 'knex'
import type { DataSource, Dialect } from './knex.ts'

export type ColumnType = 'string' | 'integer' | 'decimal' | 'boolean' | 'date' | 'datetime' | 'unknown'

export interface ColumnInfo {
  name: string
  type: ColumnType
  /** The declared database type, lower-cased, e.g. `varchar(16)`, `decimal(10,2)`. */
  rawType: string
  nullable: boolean
  primaryKey: boolean
  unique: boolean
  /** The column's comment (MySQL/MariaDB COMMENT, PostgreSQL COMMENT ON COLUMN), when it has one. */
  comment?: string
}

export interface ForeignKeyInfo {
  /** Not declared: inferred by the engine from names, types and sampled values. */
  inferred?: true
  columns: string[]
  refTable: string
  refColumns: string[]
}

export interface TableInfo {
  name: string
  columns: ColumnInfo[]
  primaryKey: string[]
  foreignKeys: ForeignKeyInfo[]
}

export interface SchemaInfo {
  dialect: Dialect
  tables: TableInfo[]
}

/** Map a declared SQL type to the hub's small type system (SQLite affinity, MySQL and PostgreSQL types). */
export function classifyType(rawType: string): ColumnType {
  const t = rawType.toLowerCase().trim()
  if (/^(tinyint\(1\)|bool\b|boolean\b)/.test(t)) return 'boolean'
  if (/^(datetime|timestamp)/.test(t)) return 'datetime'
  if (/^date\b/.test(t)) return 'date'
  if (/^(bigint|int|integer|smallint|mediumint|tinyint|int[248]|serial|bigserial|smallserial)\b/.test(t))
    return 'integer'
  if (/^(decimal|numeric|real|double|float|money)/.test(t)) return 'decimal'
  if (/(char|text|clob|enum|set\b|uuid)/.test(t)) return 'string'
  if (t === '') return 'unknown'
  return 'unknown'
}

async function introspectSqlite(knex: Knex): Promise<TableInfo[]> {
  const tables = (await knex.raw(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'knex_%' ORDER BY name",
  )) as { name: string }[]
  const out: TableInfo[] = []
  for (const { name } of tables) {
    const cols = (await knex.raw('SELECT * FROM pragma_table_info(?)', [name])) as {
      name: string
      type: string
      notnull: number
      pk: number
    }[]
    const fks = (await knex.raw('SELECT * FROM pragma_foreign_key_list(?)', [name])) as {
      id: number
      seq: number
      table: string
      from: string
      to: string | null
    }[]
    const indexes = (await knex.raw('SELECT * FROM pragma_index_list(?)', [name])) as {
      name: string
      unique: number
    }[]
    const uniqueCols = new Set<string>()
    for (const ix of indexes.filter((i) => i.unique)) {
      const ixCols = (await knex.raw('SELECT * FROM pragma_index_info(?)', [ix.name])) as { name: string }[]
      if (ixCols.length === 1 && ixCols[0]) uniqueCols.add(ixCols[0].name)
    }
    const pk = cols.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk)
    const byId = new Map<number, ForeignKeyInfo>()
    for (const fk of fks.sort((a, b) => a.id - b.id || a.seq - b.seq)) {
      const entry = byId.get(fk.id) ?? { columns: [], refTable: fk.table, refColumns: [] }
      entry.columns.push(fk.from)
      entry.refColumns.push(fk.to ?? '')
      byId.set(fk.id, entry)
    }
    const foreignKeys = [...byId.values()]
    // `REFERENCES t` without a column list points at t's primary key.
    for (const fk of foreignKeys) {
      if (fk.refColumns.some((c) => c === '')) {
        const ref = (await knex.raw('SELECT name, pk FROM pragma_table_info(?) WHERE pk > 0 ORDER BY pk', [
          fk.refTable,
        ])) as { name: string }[]
        fk.refColumns = ref.map((r) => r.name)
      }
    }
    out.push({
      name,
      columns: cols.map((c) => ({
        name: c.name,
        type: classifyType(c.type),
        rawType: c.type.toLowerCase(),
        nullable: c.notnull === 0 && c.pk === 0,
        primaryKey: c.pk > 0,
        unique: uniqueCols.has(c.name) || (c.pk > 0 && pk.length === 1),
      })),
      primaryKey: pk.map((c) => c.name),
      foreignKeys,
    })
  }
  return out
}

async function introspectMysql(knex: Knex): Promise<TableInfo[]> {
  const [cols] = (await knex.raw(
    `SELECT TABLE_NAME AS t, COLUMN_NAME AS c, COLUMN_TYPE AS ty, IS_NULLABLE AS n, COLUMN_KEY AS k, COLUMN_COMMENT AS cm
       FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME, ORDINAL_POSITION`,
  )) as [{ t: string; c: string; ty: string; n: string; k: string; cm: string | null }[]]
  const [tables] = (await knex.raw(
    `SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE IN ('BASE TABLE', 'VIEW') AND TABLE_NAME NOT LIKE 'knex\\_%' ORDER BY TABLE_NAME`,
  )) as [{ t: string }[]]
  // Keys come from KEY_COLUMN_USAGE alone: it lists every column of a PRIMARY KEY, UNIQUE and
  // FOREIGN KEY constraint to any user who may read the table. TABLE_CONSTRAINTS and
  // REFERENTIAL_CONSTRAINTS are not usable: MariaDB 10.11 shows their rows only to users with more
  // than SELECT, so a production `GRANT SELECT ON db.*` account saw no foreign key, the row policy
  // could not propagate, and nothing said so. The kind of a constraint follows from the row itself:
  // REFERENCED_TABLE_NAME set = foreign key, the name PRIMARY = primary key (MySQL and MariaDB
  // always name it so), anything else = unique. (A PostgreSQL variant must likewise read a catalog
  // every reader sees — pg_catalog.pg_constraint — because its information_schema key views list
  // only tables the user owns.)
  const [keys] = (await knex.raw(
    `SELECT TABLE_NAME AS t, COLUMN_NAME AS c, CONSTRAINT_NAME AS name, ORDINAL_POSITION AS pos,
            REFERENCED_TABLE_NAME AS rt, REFERENCED_COLUMN_NAME AS rc
       FROM information_schema.KEY_COLUMN_USAGE
      WHERE TABLE_SCHEMA = DATABASE()
        -- a foreign key into another schema joins nothing the model knows: leave it out
        AND (REFERENCED_TABLE_NAME IS NULL OR REFERENCED_TABLE_SCHEMA = TABLE_SCHEMA)
      ORDER BY TABLE_NAME, CONSTRAINT_NAME, ORDINAL_POSITION`,
  )) as [{ t: string; c: string; name: string; pos: number; rt: string | null; rc: string | null }[]]
  const kindOf = (k: { name: string; rt: string | null }): 'PRIMARY KEY' | 'FOREIGN KEY' | 'UNIQUE' =>
    k.rt ? 'FOREIGN KEY' : k.name === 'PRIMARY' ? 'PRIMARY KEY' : 'UNIQUE'
  const out: TableInfo[] = []
  for (const { t } of tables) {
    const tk = keys.filter((k) => k.t === t)
    const pk = tk.filter((k) => kindOf(k) === 'PRIMARY KEY').map((k) => k.c)
    const uniqueByName = new Map<string, string[]>()
    for (const k of tk.filter((k) => kindOf(k) === 'UNIQUE'))
      uniqueByName.set(k.name, [...(uniqueByName.get(k.name) ?? []), k.c])
    const unique = new Set([...uniqueByName.values()].filter((c) => c.length === 1).map((c) => c[0]))
    const fkByName = new Map<string, ForeignKeyInfo>()
    for (const k of tk.filter((k) => kindOf(k) === 'FOREIGN KEY')) {
      const e = fkByName.get(k.name) ?? { columns: [], refTable: k.rt as string, refColumns: [] }
      e.columns.push(k.c)
      e.refColumns.push(k.rc as string)
      fkByName.set(k.name, e)
    }
    out.push({
      name: t,
      columns: cols
        .filter((c) => c.t === t)
        .map((c) => ({
          name: c.c,
          type: classifyType(c.ty),
          rawType: c.ty.toLowerCase(),
          nullable: c.n === 'YES',
          primaryKey: pk.includes(c.c),
          unique: unique.has(c.c) || (pk.length === 1 && pk[0] === c.c),
          ...(c.cm?.trim() ? { comment: c.cm.trim() } : {}),
        })),
      primaryKey: pk,
      foreignKeys: [...fkByName.values()],
    })
  }
  return out
}

/**
 * PostgreSQL: tables and views of the first schema on the `search_path` (`current_schema()`), from
 * pg_catalog alone. information_schema.table_constraints and its key views list only tables the
 * current role owns (or holds a non-SELECT privilege on), so a `GRANT SELECT` reader would see no
 * keys there; pg_constraint, pg_attribute, pg_class and pg_namespace are readable by every role.
 * pg_class also lists tables the role may not read, so every query keeps only what the role holds
 * SELECT on (table-wide or per column): a partial grant must not make the value index, and so the
 * tenant, fail on a permission error.
 */
async function introspectPostgres(knex: Knex): Promise<TableInfo[]> {
  const rowsOf = <T>(r: unknown) => (r as { rows: T[] }).rows
  const tables = rowsOf<{ t: string }>(
    await knex.raw(
      `SELECT c.relname AS t FROM pg_catalog.pg_class c
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm')
          AND c.relname NOT LIKE 'knex\\_%' AND NOT c.relispartition
          AND pg_catalog.has_any_column_privilege(c.oid, 'SELECT')
        ORDER BY c.relname`,
    ),
  )
  const cols = rowsOf<{ t: string; c: string; ty: string; notnull: boolean; cm: string | null }>(
    await knex.raw(
      `SELECT c.relname AS t, a.attname AS c, pg_catalog.format_type(a.atttypid, a.atttypmod) AS ty,
              a.attnotnull AS notnull, pg_catalog.col_description(c.oid, a.attnum) AS cm
         FROM pg_catalog.pg_attribute a
         JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = current_schema() AND a.attnum > 0 AND NOT a.attisdropped
          AND pg_catalog.has_column_privilege(c.oid, a.attnum, 'SELECT')
        ORDER BY c.relname, a.attnum`,
    ),
  )
  // One row per constraint column, in key order; a foreign key into another schema joins nothing
  // the model knows and is left out.
  const keys = rowsOf<{
    t: string
    name: string
    kind: 'p' | 'u' | 'f'
    c: string
    rt: string | null
    rc: string | null
  }>(
    await knex.raw(
      `SELECT c.relname AS t, con.conname AS name, con.contype AS kind, a.attname AS c,
              rc.relname AS rt, ra.attname AS rc
         FROM pg_catalog.pg_constraint con
         JOIN pg_catalog.pg_class c ON c.oid = con.conrelid
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
         CROSS JOIN LATERAL unnest(con.conkey, coalesce(con.confkey, con.conkey)) WITH ORDINALITY AS k(attnum, refnum, pos)
         JOIN pg_catalog.pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
         LEFT JOIN pg_catalog.pg_class rc ON rc.oid = con.confrelid
         LEFT JOIN pg_catalog.pg_namespace rn ON rn.oid = rc.relnamespace
         LEFT JOIN pg_catalog.pg_attribute ra ON ra.attrelid = con.confrelid AND ra.attnum = k.refnum
        WHERE n.nspname = current_schema() AND con.contype IN ('p', 'u', 'f')
          AND (con.contype <> 'f' OR rn.nspname = n.nspname)
        ORDER BY c.relname, con.conname, k.pos`,
    ),
  )
  // A key with a column the role cannot read would point at nothing the model has: drop it whole.
  const readable = new Set(cols.map((c) => `${c.t}\u0000${c.c}`))
  const partial = new Set(
    keys
      .filter(
        (k) =>
          !readable.has(`${k.t}\u0000${k.c}`) || (k.kind === 'f' && !readable.has(`${k.rt}\u0000${k.rc}`)),
      )
      .map((k) => `${k.t}\u0000${k.name}`),
  )
  return tables.map(({ t }) => {
    const tk = keys.filter((k) => k.t === t && !partial.has(`${t}\u0000${k.name}`))
    const pk = tk.filter((k) => k.kind === 'p').map((k) => k.c)
    const uniqueByName = new Map<string, string[]>()
    for (const k of tk.filter((k) => k.kind === 'u'))
      uniqueByName.set(k.name, [...(uniqueByName.get(k.name) ?? []), k.c])
    const unique = new Set([...uniqueByName.values()].filter((c) => c.length === 1).map((c) => c[0]))
    const fkByName = new Map<string, ForeignKeyInfo>()
    for (const k of tk.filter((k) => k.kind === 'f')) {
      const e = fkByName.get(k.name) ?? { columns: [], refTable: k.rt as string, refColumns: [] }
      e.columns.push(k.c)
      e.refColumns.push(k.rc as string)
      fkByName.set(k.name, e)
    }
    return {
      name: t,
      columns: cols
        .filter((c) => c.t === t)
        .map((c) => ({
          name: c.c,
          type: classifyType(c.ty),
          rawType: c.ty.toLowerCase(),
          nullable: !c.notnull,
          primaryKey: pk.includes(c.c),
          unique: unique.has(c.c) || (pk.length === 1 && pk[0] === c.c),
          ...(c.cm?.trim() ? { comment: c.cm.trim() } : {}),
        })),
      primaryKey: pk,
      foreignKeys: [...fkByName.values()],
    }
  })
}

/**
 * Tables the hub itself keeps in a tenant's database (e.g. `nl2q_boast_loads`, the ledger of loaded
 * inbound files in a sync target): bookkeeping, never a dataset.
 */
export const HUB_TABLE_PREFIX = 'nl2q_'

/** Tables, columns, types, primary and foreign keys of a data source, dialect-independent. */
export async function introspect(ds: DataSource): Promise<SchemaInfo> {
  const tables =
    ds.dialect === 'sqlite'
      ? await introspectSqlite(ds.knex)
      : ds.dialect === 'postgresql'
        ? await introspectPostgres(ds.knex)
        : await introspectMysql(ds.knex)
  return { dialect: ds.dialect, tables: tables.filter((t) => !t.name.startsWith(HUB_TABLE_PREFIX)) }
}
