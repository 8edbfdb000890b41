/**
 * Throw-away MariaDB and PostgreSQL databases for tests (the package's own tests and, through
 * `@nl2q/core/testing`, the end-to-end tests in /test): the package never reaches into /test.
 */
import { randomBytes } from 'node:crypto'
import knexFactory from 'knex'
import pg from 'pg'

/** The MariaDB the suite runs against (CI starts it; see .ci/run). Tests fail, not skip, when it is down. */
export const TEST_MYSQL_URL = process.env.NL2Q_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test'

/** Run one statement on the test MariaDB server (no database selected). */
async function asMysqlAdmin(sql: string): Promise<void> {
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
    await knex.raw(sql)
  } finally {
    await knex.destroy()
  }
}

/**
 * Create a throw-away database for one test file so that files running in parallel never collide.
 * Returns its URL and a drop() for afterAll.
 */
export async function createTestDatabase(
  prefix = 'nl2q_t',
): Promise<{ url: string; name: string; drop(): Promise<void> }> {
  const name = `${prefix}_${randomBytes(4).toString('hex')}`
  await asMysqlAdmin(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`)
  const url = new URL(TEST_MYSQL_URL)
  url.pathname = `/${name}`
  return {
    url: url.toString(),
    name,
    drop: () => asMysqlAdmin(`DROP DATABASE IF EXISTS \`${name}\``),
  }
}

/** The PostgreSQL the suite runs against (CI starts it; see .ci/run). Tests fail, not skip, when it is down. */
export const TEST_PG_URL = process.env.NL2Q_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'

async function asAdmin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_PG_URL })
  await client.connect()
  try {
    await client.query(sql)
  } finally {
    await client.end()
  }
}

/**
 * Create a throw-away PostgreSQL database for one test file so that files running in parallel never
 * collide. Returns its URL and a drop() for afterAll (which also ends any session still in it).
 */
export async function createTestPgDatabase(
  prefix = 'nl2q_t',
): Promise<{ url: string; name: string; drop(): Promise<void> }> {
  const name = `${prefix}_${randomBytes(4).toString('hex')}`
  await asAdmin(`CREATE DATABASE "${name}"`)
  const url = new URL(TEST_PG_URL)
  url.pathname = `/${name}`
  return {
    url: url.toString(),
    name,
    drop: () => asAdmin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`),
  }
}

/**
 * A real login role with `USAGE` on the schema and `SELECT` on its tables only — what the docs
 * recommend for a tenant's data user. Random name; drop() removes it (after the database's drop).
 * `grants` replaces the all-tables grant with exactly these statements (`ROLE` stands for the
 * role's quoted name), e.g. `GRANT SELECT ON regions TO ROLE` for a partial grant.
 */
export async function createPgSelectOnlyRole(
  dbUrl: string,
  schema = 'public',
  grants?: string[],
): Promise<{ url: string; role: string; drop(): Promise<void> }> {
  const role = `r_nl2q_${randomBytes(4).toString('hex')}`
  await asAdmin(`CREATE ROLE "${role}" LOGIN`)
  const client = new pg.Client({ connectionString: dbUrl })
  await client.connect()
  try {
    await client.query(`GRANT USAGE ON SCHEMA "${schema}" TO "${role}"`)
    for (const grant of grants ?? [`GRANT SELECT ON ALL TABLES IN SCHEMA "${schema}" TO ROLE`])
      await client.query(grant.replace(/\bROLE$/, `"${role}"`))
  } finally {
    await client.end()
  }
  const url = new URL(dbUrl)
  url.username = role
  return {
    url: url.toString(),
    role,
    async drop() {
      const c = new pg.Client({ connectionString: dbUrl })
      await c.connect().catch(() => null)
      await c.query(`DROP OWNED BY "${role}"`).catch(() => null)
      await c.end().catch(() => null)
      await asAdmin(`DROP ROLE IF EXISTS "${role}"`)
    },
  }
}

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
