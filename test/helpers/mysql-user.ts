import { randomBytes } from 'node:crypto'
import knexFactory from 'knex'
import { TEST_MYSQL_URL } from './mysql.ts'

/**
 * A real MariaDB account with `GRANT SELECT ON <database>.*` only — what the docs recommend for a
 * tenant's production data user. Random name; drop() removes it (call it in afterAll).
 */
export async function createSelectOnlyUser(
  database: string,
): Promise<{ url: string; user: string; drop(): Promise<void> }> {
  const user = `nl2q_ro_${randomBytes(4).toString('hex')}`
  const password = randomBytes(12).toString('hex')
  const admin = new URL(TEST_MYSQL_URL)
  const connect = () =>
    knexFactory({
      client: 'mysql2',
      connection: {
        host: admin.hostname,
        port: Number(admin.port || 3306),
        user: decodeURIComponent(admin.username || 'root'),
        password: decodeURIComponent(admin.password),
      },
    })
  const hosts = ['%', 'localhost']
  const k = connect()
  try {
    for (const host of hosts) {
      await k.raw('CREATE USER ?@? IDENTIFIED BY ?', [user, host, password])
      await k.raw(`GRANT SELECT ON \`${database}\`.* TO ?@?`, [user, host])
    }
  } finally {
    await k.destroy()
  }
  const url = new URL(TEST_MYSQL_URL)
  url.username = user
  url.password = password
  url.pathname = `/${database}`
  return {
    url: url.toString(),
    user,
    async drop() {
      const d = connect()
      try {
        for (const host of hosts) await d.raw('DROP USER IF EXISTS ?@?', [user, host])
      } finally {
        await d.destroy()
      }
    },
  }
}
