import { randomBytes } from 'node:crypto'
import knexFactory from 'knex'

/** The MariaDB the suite runs against (CI starts it; see .ci/run). Tests fail, not skip, when it is down. */
export const TEST_MYSQL_URL = process.env.NL2Q_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test'

/**
 * Create a throw-away database for one test file so that files running in parallel never collide.
 * Returns its URL and a drop() for afterAll.
 */
export async function createTestDatabase(
  prefix = 'nl2q_t',
): Promise<{ url: string; name: string; drop(): Promise<void> }> {
  const name = `${prefix}_${randomBytes(4).toString('hex')}`
  const admin = new URL(TEST_MYSQL_URL)
  const knex = knexFactory({
    client: 'mysql2',
    connection: {
      host: admin.hostname,
      port: Number(admin.port || 3306),
      user: decodeURIComponent(admin.username || 'root'),
      password: decodeURIComponent(admin.password),
    },
  })
  try {
    await knex.raw(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`)
  } finally {
    await knex.destroy()
  }
  const url = new URL(TEST_MYSQL_URL)
  url.pathname = `/${name}`
  return {
    url: url.toString(),
    name,
    async drop() {
      const k = knexFactory({
        client: 'mysql2',
        connection: {
          host: admin.hostname,
          port: Number(admin.port || 3306),
          user: decodeURIComponent(admin.username || 'root'),
          password: decodeURIComponent(admin.password),
        },
      })
      try {
        await k.raw(`DROP DATABASE IF EXISTS \`${name}\``)
      } finally {
        await k.destroy()
      }
    },
  }
}
