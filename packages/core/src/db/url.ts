import { isAbsolute, resolve } from 'node:path'
import { HubError } from '../errors.ts'

export type Dialect = 'sqlite' | 'mysql'

export type DataSourceConfig =
  | { dialect: 'sqlite'; filename: string }
  | {
      dialect: 'mysql'
      connection: { host: string; port: number; user: string; password: string; database: string }
    }

/**
 * Parse a data-source URL: `sqlite:relative/or/absolute/path.sqlite`, `sqlite:///abs/path`,
 * `mysql://user:pass@host:3306/db` (also `mariadb://`). The URL is a secret: errors never repeat it.
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
  throw new HubError('CONFIG_INVALID', 'Unsupported data-source URL: use sqlite:<path> or mysql://…')
}

/** A URL safe to log: scheme and database name only. */
export function redactUrl(url: string): string {
  if (url.startsWith('sqlite:')) return 'sqlite:<file>'
  try {
    const u = new URL(url.replace(/^mariadb:/, 'mysql:'))
    return `${u.protocol}//<redacted>@${u.hostname}${u.pathname}`
  } catch {
    return '<invalid url>'
  }
}
