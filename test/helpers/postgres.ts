import { randomBytes } from 'node:crypto'
import pg from 'pg'

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
