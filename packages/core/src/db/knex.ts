import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import knexFactory, { type Knex } from 'knex'
import pg from 'pg'
import { type DataSourceConfig, type Dialect, parseDataSourceUrl } from './url.ts'

export type { Dialect }

export interface OpenOptions {
  /** Open SQLite read-only (the tenant data path); MySQL read-only is per transaction, PostgreSQL per session. */
  readOnly?: boolean
  pool?: { min?: number; max?: number }
  baseDir?: string
}

/**
 * knex writes pool and driver warnings to the console, with hosts and sometimes SQL in them; the
 * same failures reach the caller as errors (logged by the hub with redaction), so knex stays quiet.
 */
const quietLog = { warn() {}, error() {}, deprecate() {}, debug() {} }

export interface DataSource {
  dialect: Dialect
  knex: Knex
  config: DataSourceConfig
}

export function openDataSource(url: string, options: OpenOptions = {}): DataSource {
  const config = parseDataSourceUrl(url, options.baseDir)
  if (config.dialect === 'sqlite') {
    if (!options.readOnly) mkdirSync(dirname(config.filename), { recursive: true })
    const knex = knexFactory({
      log: quietLog,
      client: 'better-sqlite3',
      connection: {
        filename: config.filename,
        options: { readonly: options.readOnly === true },
      },
      useNullAsDefault: true,
      pool: {
        min: 1,
        max: options.pool?.max ?? 1,
        afterCreate(conn: { pragma(s: string): unknown }, done: (err: Error | null, conn: unknown) => void) {
          try {
            if (!options.readOnly) conn.pragma('journal_mode = WAL')
            conn.pragma('busy_timeout = 5000')
            conn.pragma('foreign_keys = ON')
            if (options.readOnly) conn.pragma('query_only = ON')
            done(null, conn)
          } catch (err) {
            done(err as Error, conn)
          }
        },
      },
    })
    return { dialect: 'sqlite', knex, config }
  }
  if (config.dialect === 'postgresql') {
    const knex = knexFactory({
      log: quietLog,
      client: 'pg',
      connection: { ...config.connection, types: pgTypes, connectionTimeoutMillis: 10_000 },
      pool: {
        min: options.pool?.min ?? 0,
        max: options.pool?.max ?? 10,
        // Tenant pools: every transaction on the session defaults to READ ONLY (the executor also
        // opens each query with BEGIN READ ONLY); introspection and the value index run read-only too.
        afterCreate: options.readOnly ? pgReadOnlySession : undefined,
      },
    })
    return { dialect: 'postgresql', knex, config }
  }
  const knex = knexFactory({
    log: quietLog,
    client: 'mysql2',
    connection: {
      ...config.connection,
      dateStrings: true,
      supportBigNumbers: true,
      bigNumberStrings: false,
      decimalNumbers: true,
      timezone: 'Z',
      multipleStatements: false,
      charset: 'utf8mb4',
    },
    pool: {
      min: options.pool?.min ?? 0,
      max: options.pool?.max ?? 10,
      afterCreate: withSafeSqlMode,
    },
  })
  return { dialect: 'mysql', knex, config }
}

/**
 * Values as the other dialects return them: bigint (COUNT, SUM of integers) and numeric as JS
 * numbers, dates and timestamps as the server's text ('YYYY-MM-DD', 'YYYY-MM-DD HH:MM:SS'), never
 * as Date objects shifted by the local time zone.
 */
const PG_AS_NUMBER = new Set([20, 1700]) // int8, numeric
const PG_AS_TEXT = new Set([1082, 1114, 1184]) // date, timestamp, timestamptz
const pgTypes = {
  getTypeParser: (oid: number, format?: string) => {
    if (PG_AS_NUMBER.has(oid)) return (v: string) => Number(v)
    if (PG_AS_TEXT.has(oid)) return (v: string) => v
    return format === 'binary' ? pg.types.getTypeParser(oid, 'binary') : pg.types.getTypeParser(oid, 'text')
  },
}

type PgCallbackConnection = { query(sql: string, cb: (err: Error | null) => void): void }

function pgReadOnlySession(
  conn: PgCallbackConnection,
  done: (err: Error | null, conn: unknown) => void,
): void {
  conn.query('SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY', (err) => done(err, conn))
}

type MysqlCallbackConnection = {
  query(sql: string, values: unknown[], cb: (err: Error | null, rows?: unknown) => void): void
}

/**
 * mysql2 interpolates bound values client-side with backslash escapes; under the server mode
 * NO_BACKSLASH_ESCAPES a value such as `' OR 1=1 -- ` would escape its string. Every pooled
 * connection drops that mode (and keeps the rest of the server's sql_mode).
 */
export function withSafeSqlMode(
  conn: MysqlCallbackConnection,
  done: (err: Error | null, conn: unknown) => void,
): void {
  conn.query('SELECT @@SESSION.sql_mode AS mode', [], (err, rows) => {
    if (err) return done(err, conn)
    const mode = String((rows as { mode: string }[])[0]?.mode ?? '')
    if (!/NO_BACKSLASH_ESCAPES/i.test(mode)) return done(null, conn)
    const safe = mode
      .split(',')
      .filter((m) => m && m.toUpperCase() !== 'NO_BACKSLASH_ESCAPES')
      .join(',')
    conn.query('SET SESSION sql_mode = ?', [safe], (e) => done(e, conn))
  })
}

/** Is the data source reachable? Used by /health/ready. */
export async function ping(ds: DataSource): Promise<void> {
  await ds.knex.raw('select 1 as ok')
}
