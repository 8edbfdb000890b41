import { isAbsolute, resolve } from 'node:path'
import { HubError } from '../errors.ts'

export type Dialect = 'sqlite' | 'mysql' | 'postgresql'

/**
 * TLS for a network data source, as both drivers (pg, mysql2) take it (pg also takes `false` =
 * plain TCP): TLS verifying the server's certificate chain (`rejectUnauthorized`) and, unless
 * `checkServerIdentity` is the no-op, its host name. Absent = the driver's default (plain TCP).
 */
export interface Tls {
  rejectUnauthorized: boolean
  /** pg (Node tls): a no-op here skips the host-name check. */
  checkServerIdentity?: (host: string, cert: unknown) => undefined
  /** mysql2 checks the host name only when this is true. */
  verifyIdentity?: boolean
}

interface NetworkConnection<S> {
  host: string
  port: number
  user: string
  password: string
  database: string
  ssl?: S
}

export type DataSourceConfig =
  | { dialect: 'sqlite'; filename: string }
  | { dialect: 'mysql'; connection: NetworkConnection<Tls> }
  | { dialect: 'postgresql'; connection: NetworkConnection<Tls | false> }

/** Certificate chain checked, host name not (libpq's verify-ca, MySQL's VERIFY_CA). */
const anyHost = (): undefined => undefined

/** libpq `sslmode` values. `prefer` cannot fall back to plain TCP in pg: it means TLS, unverified. */
const PG_SSLMODES: Record<string, Tls | false> = {
  disable: false,
  prefer: { rejectUnauthorized: false },
  require: { rejectUnauthorized: false },
  'verify-ca': { rejectUnauthorized: true, checkServerIdentity: anyHost },
  'verify-full': { rejectUnauthorized: true },
}

/**
 * MySQL client `ssl-mode` values (case-insensitive); PREFERRED likewise means TLS, unverified, and
 * DISABLED is mysql2's default (no `ssl`).
 */
const MYSQL_SSLMODES: Record<string, Tls | undefined> = {
  disabled: undefined,
  preferred: { rejectUnauthorized: false },
  required: { rejectUnauthorized: false },
  verify_ca: { rejectUnauthorized: true },
  verify_identity: { rejectUnauthorized: true, verifyIdentity: true },
}

/**
 * The TLS option a URL's query asks for. Every other query parameter is refused by name rather than
 * dropped: a silently ignored `sslmode` would send the data in the clear. Messages name the
 * parameter and the allowed values, never the URL (it holds the password).
 */
function tlsFromQuery<S>(u: URL, scheme: string, param: string, modes: Record<string, S>): S | undefined {
  let ssl: S | undefined
  for (const [key, value] of u.searchParams) {
    if (key !== param)
      throw new HubError(
        'VALIDATION_FAILED',
        `The ${scheme} URL has an unsupported query parameter '${key}': only ${param} is understood`,
      )
    if (!Object.hasOwn(modes, value.toLowerCase()))
      throw new HubError(
        'VALIDATION_FAILED',
        `The ${scheme} URL's ${param} must be one of ${Object.keys(modes).join(', ')}`,
      )
    ssl = modes[value.toLowerCase()]
  }
  return ssl
}

/**
 * Parse a data-source URL: `sqlite:relative/or/absolute/path.sqlite`, `sqlite:///abs/path`,
 * `mysql://user:pass@host:3306/db` (also `mariadb://`), `postgres://user:pass@host:5432/db` (also
 * `postgresql://`). The URL is a secret: errors never repeat it. TLS comes from `?sslmode=` on
 * postgres:// (disable, prefer, require, verify-ca, verify-full) and `?ssl-mode=` on mysql://
 * (DISABLED, PREFERRED, REQUIRED, VERIFY_CA, VERIFY_IDENTITY); any other query parameter is refused.
 */
export function parseDataSourceUrl(url: string, baseDir = process.cwd()): DataSourceConfig {
  if (url.startsWith('sqlite:')) {
    let path = url.slice('sqlite:'.length)
    if (path.startsWith('//')) path = path.slice(2)
    if (!path) throw new HubError('CONFIG_INVALID', 'A sqlite: URL needs a file path')
    return { dialect: 'sqlite', filename: isAbsolute(path) ? path : resolve(baseDir, path) }
  }
  if (/^(mysql|mariadb):\/\//.test(url)) {
    let u: URL
    try {
      u = new URL(url.replace(/^mariadb:/, 'mysql:'))
    } catch (cause) {
      throw new HubError('CONFIG_INVALID', 'The mysql:// URL is not a valid URL', { cause })
    }
    const database = decodeURIComponent(u.pathname.replace(/^\//, ''))
    if (!database) throw new HubError('CONFIG_INVALID', 'A mysql:// URL needs a database name')
    const ssl = tlsFromQuery(u, 'mysql://', 'ssl-mode', MYSQL_SSLMODES)
    return {
      dialect: 'mysql',
      connection: {
        host: u.hostname || '127.0.0.1',
        port: u.port ? Number(u.port) : 3306,
        user: decodeURIComponent(u.username || 'root'),
        password: decodeURIComponent(u.password),
        database,
        ...(ssl === undefined ? {} : { ssl }),
      },
    }
  }
  if (/^postgres(ql)?:\/\//.test(url)) {
    let u: URL
    try {
      u = new URL(url.replace(/^postgresql:/, 'postgres:'))
    } catch (cause) {
      throw new HubError('CONFIG_INVALID', 'The postgres:// URL is not a valid URL', { cause })
    }
    const database = decodeURIComponent(u.pathname.replace(/^\//, ''))
    if (!database) throw new HubError('CONFIG_INVALID', 'A postgres:// URL needs a database name')
    const ssl = tlsFromQuery(u, 'postgres://', 'sslmode', PG_SSLMODES)
    return {
      dialect: 'postgresql',
      connection: {
        host: u.hostname || '127.0.0.1',
        port: u.port ? Number(u.port) : 5432,
        user: decodeURIComponent(u.username || 'postgres'),
        password: decodeURIComponent(u.password),
        database,
        ...(ssl === undefined ? {} : { ssl }),
      },
    }
  }
  throw new HubError(
    'CONFIG_INVALID',
    'Unsupported data-source URL: use sqlite:<path>, mysql://… or postgres://…',
  )
}

/** A URL safe to log: scheme and database name only. */
export function redactUrl(url: string): string {
  if (url.startsWith('sqlite:')) return 'sqlite:<file>'
  try {
    const u = new URL(url.replace(/^mariadb:/, 'mysql:').replace(/^postgresql:/, 'postgres:'))
    return `${u.protocol}//<redacted>@${u.hostname}${u.pathname}`
  } catch {
    return '<invalid url>'
  }
}
