import { isAbsolute, resolve } from 'node:path'
import { HubError } from '../errors.ts'

export type Dialect = 'sqlite' | 'mysql' | 'postgresql'

export type DataSourceConfig =
  | { dialect: 'sqlite'; filename: string }
  | {
      dialect: 'mysql'
      connection: { host: string; port: number; user: string; password: string; database: string }
    }
  | {
      dialect: 'postgresql'
      connection: { host: string; port: number; user: string; password: string; database: string }
    }

/**
 * Parse a data-source URL: `sqlite:relative/or/absolute/path.sqlite`, `sqlite:///abs/path`,
 * `mysql://user:pass@host:3306/db` (also `mariadb://`), `postgres://user:pass@host:5432/db` (also
 * `postgresql://`). The URL is a secret: errors never repeat it.
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
    return {
      dialect: 'mysql',
      connection: {
        host: u.hostname || '127.0.0.1',
        port: u.port ? Number(u.port) : 3306,
        user: decodeURIComponent(u.username || 'root'),
        password: decodeURIComponent(u.password),
        database,
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
    return {
      dialect: 'postgresql',
      connection: {
        host: u.hostname || '127.0.0.1',
        port: u.port ? Number(u.port) : 5432,
        user: decodeURIComponent(u.username || 'postgres'),
        password: decodeURIComponent(u.password),
        database,
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
