/**
 * The pharma schema (test/fixtures/datasets/pharma.md) as data, rendered to DDL per dialect. Keys and
 * foreign keys are real constraints: they are how the engine's introspection infers joins.
 */

import type { DataSource, Dialect } from '../db/knex.ts'
import { HubError } from '../errors.ts'

export interface ColumnDef {
  name: string
  /** The declared type; `boolean` is rendered as `tinyint(1)` on MySQL. */
  type: string
  nullable?: boolean
}

export interface ForeignKeyDef {
  column: string
  refTable: string
  refColumn: string
}

export interface TableDef {
  name: string
  columns: ColumnDef[]
  primaryKey: string
  unique: string[]
  foreignKeys: ForeignKeyDef[]
  /** Single-column secondary indexes (every foreign-key column has one). */
  indexes: string[]
}

const col = (name: string, type: string, nullable = false): ColumnDef => ({ name, type, nullable })
const fk = (column: string, refTable: string, refColumn = column): ForeignKeyDef => ({
  column,
  refTable,
  refColumn,
})

/** The six tables, parents before children (load order; drop in reverse). */
export const PHARMA_TABLES: readonly TableDef[] = [
  {
    name: 'territories',
    columns: [
      col('territory_id', 'varchar(16)'),
      col('territory_name', 'varchar(64)'),
      col('region', 'varchar(32)'),
      col('district', 'varchar(64)'),
    ],
    primaryKey: 'territory_id',
    unique: [],
    foreignKeys: [],
    indexes: [],
  },
  {
    name: 'reps',
    columns: [
      col('rep_id', 'varchar(16)'),
      col('rep_name', 'varchar(64)'),
      col('territory_id', 'varchar(16)'),
      col('hire_date', 'date'),
      col('email', 'varchar(128)'),
    ],
    primaryKey: 'rep_id',
    unique: [],
    foreignKeys: [fk('territory_id', 'territories')],
    indexes: ['territory_id'],
  },
  {
    name: 'hcps',
    columns: [
      col('hcp_id', 'varchar(16)'),
      col('npi', 'char(10)'),
      col('first_name', 'varchar(48)'),
      col('last_name', 'varchar(48)'),
      col('specialty', 'varchar(48)'),
      col('city', 'varchar(64)'),
      col('state', 'char(2)'),
      col('territory_id', 'varchar(16)'),
      col('segment', 'char(1)'),
      col('crm_account_id', 'char(18)'),
    ],
    primaryKey: 'hcp_id',
    unique: ['npi', 'crm_account_id'],
    foreignKeys: [fk('territory_id', 'territories')],
    indexes: ['territory_id'],
  },
  {
    name: 'products',
    columns: [
      col('product_id', 'varchar(16)'),
      col('product_name', 'varchar(64)'),
      col('manufacturer', 'varchar(64)'),
      col('therapeutic_area', 'varchar(48)'),
      col('is_company_product', 'boolean'),
      col('launch_date', 'date'),
      col('list_price', 'decimal(10,2)'),
    ],
    primaryKey: 'product_id',
    unique: ['product_name'],
    foreignKeys: [],
    indexes: [],
  },
  {
    name: 'prescriptions',
    columns: [
      col('rx_id', 'bigint'),
      col('hcp_id', 'varchar(16)'),
      col('product_id', 'varchar(16)'),
      col('week_ending', 'date'),
      col('payer_type', 'varchar(16)'),
      col('trx', 'int'),
      col('nrx', 'int'),
      col('quantity', 'int'),
    ],
    primaryKey: 'rx_id',
    unique: [],
    foreignKeys: [fk('hcp_id', 'hcps'), fk('product_id', 'products')],
    indexes: ['week_ending', 'hcp_id', 'product_id'],
  },
  {
    name: 'calls',
    columns: [
      col('call_id', 'varchar(18)'),
      col('hcp_id', 'varchar(16)'),
      col('rep_id', 'varchar(16)'),
      col('product_id', 'varchar(16)', true),
      col('call_date', 'date'),
      col('channel', 'varchar(16)'),
      col('status', 'varchar(16)'),
      col('duration_minutes', 'int'),
    ],
    primaryKey: 'call_id',
    unique: [],
    foreignKeys: [fk('hcp_id', 'hcps'), fk('rep_id', 'reps'), fk('product_id', 'products')],
    indexes: ['hcp_id', 'call_date', 'rep_id', 'product_id'],
  },
]

export const PHARMA_TABLE_NAMES: readonly string[] = PHARMA_TABLES.map((t) => t.name)

export function tableDef(name: string): TableDef {
  const def = PHARMA_TABLES.find((t) => t.name === name)
  if (!def) throw new HubError('INTERNAL', `No pharma table ${name}`)
  return def
}

const q = (dialect: Dialect, id: string): string => (dialect === 'mysql' ? `\`${id}\`` : `"${id}"`)
const fkName = (t: TableDef, f: ForeignKeyDef): string => `fk_${t.name}_${f.column}`
const fkClause = (d: Dialect, t: TableDef, f: ForeignKeyDef): string =>
  `CONSTRAINT ${q(d, fkName(t, f))} FOREIGN KEY (${q(d, f.column)}) REFERENCES ${q(d, f.refTable)} (${q(d, f.refColumn)})`

/**
 * DDL in two phases. `create` makes the tables with primary keys and unique constraints (SQLite:
 * foreign keys too, as it cannot add them later); `finish` adds secondary indexes (and on MySQL the
 * foreign keys) — run it after a bulk load, when building an index is one sort instead of millions
 * of B-tree updates.
 */
export function pharmaDdl(dialect: Dialect): { create: string[]; finish: string[] } {
  const create: string[] = []
  const finish: string[] = []
  for (const t of PHARMA_TABLES) {
    const parts = t.columns.map(
      (c) =>
        `${q(dialect, c.name)} ${dialect === 'mysql' && c.type === 'boolean' ? 'tinyint(1)' : c.type}${c.nullable ? ' NULL' : ' NOT NULL'}`,
    )
    parts.push(`PRIMARY KEY (${q(dialect, t.primaryKey)})`)
    for (const u of t.unique)
      parts.push(`CONSTRAINT ${q(dialect, `uq_${t.name}_${u}`)} UNIQUE (${q(dialect, u)})`)
    if (dialect === 'sqlite') for (const f of t.foreignKeys) parts.push(fkClause(dialect, t, f))
    const options = dialect === 'mysql' ? ' ENGINE=InnoDB DEFAULT CHARSET=utf8mb4' : ''
    create.push(`CREATE TABLE ${q(dialect, t.name)} (\n  ${parts.join(',\n  ')}\n)${options}`)

    const indexNames = t.indexes.map((c) => `ix_${t.name}_${c}`)
    if (dialect === 'sqlite') {
      for (const [i, c] of t.indexes.entries())
        finish.push(
          `CREATE INDEX ${q(dialect, indexNames[i] as string)} ON ${q(dialect, t.name)} (${q(dialect, c)})`,
        )
    } else if (dialect === 'postgresql') {
      for (const [i, c] of t.indexes.entries())
        finish.push(
          `CREATE INDEX ${q(dialect, indexNames[i] as string)} ON ${q(dialect, t.name)} (${q(dialect, c)})`,
        )
      for (const f of t.foreignKeys)
        finish.push(`ALTER TABLE ${q(dialect, t.name)} ADD ${fkClause(dialect, t, f)}`)
    } else if (t.indexes.length > 0 || t.foreignKeys.length > 0) {
      const alters = [
        ...t.indexes.map((c, i) => `ADD INDEX ${q(dialect, indexNames[i] as string)} (${q(dialect, c)})`),
        ...t.foreignKeys.map((f) => `ADD ${fkClause(dialect, t, f)}`),
      ]
      finish.push(`ALTER TABLE ${q(dialect, t.name)} ${alters.join(', ')}`)
    }
  }
  return { create, finish }
}

export const dropStatements = (dialect: Dialect): string[] =>
  [...PHARMA_TABLES].reverse().map((t) => `DROP TABLE IF EXISTS ${q(dialect, t.name)}`)

export const existingTablesSql = (dialect: Dialect): string =>
  dialect === 'sqlite'
    ? `SELECT name FROM sqlite_master WHERE type = 'table' AND name IN (${PHARMA_TABLE_NAMES.map((n) => `'${n}'`).join(', ')})`
    : dialect === 'postgresql'
      ? `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() AND table_name IN (${PHARMA_TABLE_NAMES.map((n) => `'${n}'`).join(', ')})`
      : `SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN (${PHARMA_TABLE_NAMES.map((n) => `'${n}'`).join(', ')})`

function rowsOf(dialect: Dialect, result: unknown): { name: string }[] {
  if (dialect === 'postgresql') return (result as { rows: { name: string }[] }).rows
  return (dialect === 'mysql' ? (result as [unknown])[0] : result) as { name: string }[]
}

/** Which pharma tables already exist in the data source. */
export async function existingPharmaTables(ds: DataSource): Promise<string[]> {
  return rowsOf(ds.dialect, await ds.knex.raw(existingTablesSql(ds.dialect))).map((r) => r.name)
}

export function conflictError(existing: string[]): HubError {
  return new HubError(
    'CONFLICT',
    `The database already has pharma tables (${existing.join(', ')}); seed with replace (CLI: --replace) to drop and recreate them`,
  )
}

/** Create the empty pharma schema with all keys and indexes. Refuses if any pharma table exists. */
export async function createPharmaSchema(ds: DataSource): Promise<void> {
  const existing = await existingPharmaTables(ds)
  if (existing.length > 0) throw conflictError(existing)
  const { create, finish } = pharmaDdl(ds.dialect)
  for (const sql of [...create, ...finish]) await ds.knex.raw(sql)
}

/** Drop every pharma table (children first). Other tables in the database are left alone. */
export async function dropPharmaSchema(ds: DataSource): Promise<void> {
  for (const sql of dropStatements(ds.dialect)) await ds.knex.raw(sql)
}
