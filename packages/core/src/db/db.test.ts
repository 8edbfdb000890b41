import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { HubError } from '../errors.ts'
import { localPrincipal } from '../principal.ts'
import { openEngine } from '../tenants/open-engine.ts'
import {
  createPgSelectOnlyRole,
  createSelectOnlyUser,
  createTestDatabase,
  createTestPgDatabase,
  TEST_PG_URL,
} from '../testing/test-databases.ts'
import { classifyType, introspect, openDataSource, parseDataSourceUrl, redactUrl } from './index.ts'
import { withSafeSqlMode } from './knex.ts'

describe('parseDataSourceUrl', () => {
  it('resolves relative sqlite paths against the base directory', () => {
    expect(parseDataSourceUrl('sqlite:data/x.sqlite', '/srv/hub')).toEqual({
      dialect: 'sqlite',
      filename: '/srv/hub/data/x.sqlite',
    })
    expect(parseDataSourceUrl('sqlite:///abs/x.sqlite')).toEqual({
      dialect: 'sqlite',
      filename: '/abs/x.sqlite',
    })
  })

  it('parses mysql and mariadb URLs with encoded credentials', () => {
    const c = parseDataSourceUrl('mariadb://app%40x:p%3Ass@db.internal:3307/sales')
    expect(c).toEqual({
      dialect: 'mysql',
      connection: { host: 'db.internal', port: 3307, user: 'app@x', password: 'p:ss', database: 'sales' },
    })
  })

  it('parses postgres and postgresql URLs with encoded credentials and the default port', () => {
    expect(parseDataSourceUrl('postgresql://app%40x:p%3Ass@db.internal/sales')).toEqual({
      dialect: 'postgresql',
      connection: { host: 'db.internal', port: 5432, user: 'app@x', password: 'p:ss', database: 'sales' },
    })
    expect(parseDataSourceUrl('postgres://u@h:6543/d')).toMatchObject({
      dialect: 'postgresql',
      connection: { port: 6543 },
    })
  })

  it('maps sslmode on postgres:// URLs to the pg ssl option', () => {
    const ssl = (mode: string) =>
      (parseDataSourceUrl(`postgres://u:pw@h/d?sslmode=${mode}`) as { connection: { ssl?: unknown } })
        .connection.ssl
    expect(ssl('disable')).toBe(false)
    expect(ssl('prefer')).toEqual({ rejectUnauthorized: false })
    expect(ssl('require')).toEqual({ rejectUnauthorized: false })
    expect(ssl('verify-ca')).toMatchObject({ rejectUnauthorized: true })
    expect((ssl('verify-ca') as { checkServerIdentity: () => unknown }).checkServerIdentity()).toBeUndefined()
    expect(ssl('verify-full')).toEqual({ rejectUnauthorized: true })
    expect(parseDataSourceUrl('postgres://u:pw@h/d')).not.toHaveProperty('connection.ssl')
  })

  it('maps ssl-mode on mysql:// URLs to the mysql2 ssl option', () => {
    const ssl = (mode: string) =>
      (parseDataSourceUrl(`mysql://u:pw@h/d?ssl-mode=${mode}`) as { connection: { ssl?: unknown } })
        .connection.ssl
    expect(ssl('DISABLED')).toBeUndefined()
    expect(ssl('REQUIRED')).toEqual({ rejectUnauthorized: false })
    expect(ssl('VERIFY_CA')).toEqual({ rejectUnauthorized: true })
    expect(ssl('verify_identity')).toEqual({ rejectUnauthorized: true, verifyIdentity: true })
  })

  it.each([
    ['postgres://u:hunter2@h/d?sslmode=require&application_name=x', 'application_name'],
    ['postgresql://u:hunter2@h/d?ssl=true', "'ssl'"],
    ['postgres://u:hunter2@h/d?sslmode=bogus', 'sslmode must be one of'],
    ['mysql://u:hunter2@h/d?ssl=true', "'ssl'"],
    ['mariadb://u:hunter2@h/d?ssl-mode=maybe', 'ssl-mode must be one of'],
  ])('refuses %s with a VALIDATION_FAILED error naming the parameter, not the password', (url, named) => {
    try {
      parseDataSourceUrl(url)
      expect.unreachable()
    } catch (err) {
      expect((err as HubError).code).toBe('VALIDATION_FAILED')
      expect((err as HubError).message).toContain(named)
      expect((err as HubError).message).not.toContain('hunter2')
    }
  })

  it('rejects other schemes without repeating the URL', () => {
    try {
      parseDataSourceUrl('oracle://user:hunter2@h/db')
      expect.unreachable()
    } catch (err) {
      expect((err as HubError).code).toBe('CONFIG_INVALID')
      expect((err as HubError).message).not.toContain('hunter2')
    }
  })

  it('redacts credentials for logs', () => {
    expect(redactUrl('mysql://root:hunter2@db:3306/x')).toBe('mysql://<redacted>@db/x')
    expect(redactUrl('sqlite:/secret/path.sqlite')).toBe('sqlite:<file>')
    expect(redactUrl('postgresql://root:hunter2@db:5432/x')).toBe('postgres://<redacted>@db/x')
  })
})

describe('classifyType', () => {
  it.each([
    ['varchar(16)', 'string'],
    ['char(2)', 'string'],
    ['int(11)', 'integer'],
    ['bigint', 'integer'],
    ['decimal(10,2)', 'decimal'],
    ['tinyint(1)', 'boolean'],
    ['boolean', 'boolean'],
    ['date', 'date'],
    ['datetime(3)', 'datetime'],
    ['timestamp', 'datetime'],
    ['character varying(16)', 'string'],
    ['timestamp without time zone', 'datetime'],
    ['double precision', 'decimal'],
    ['numeric(10,2)', 'decimal'],
    ['int4', 'integer'],
    ['text', 'string'],
  ])('maps %s to %s', (raw, type) => expect(classifyType(raw)).toBe(type))
})

const DDL = [
  'CREATE TABLE regions (region_id VARCHAR(8) PRIMARY KEY, region_name VARCHAR(32) NOT NULL UNIQUE)',
  `CREATE TABLE stores (store_id INT PRIMARY KEY, region_id VARCHAR(8) NOT NULL, opened DATE, active BOOLEAN,
     area DECIMAL(10,2), FOREIGN KEY (region_id) REFERENCES regions(region_id))`,
]

async function checkIntrospection(url: string, readerUrl = url) {
  const ds = openDataSource(url)
  const reader = readerUrl === url ? ds : openDataSource(readerUrl)
  try {
    for (const ddl of DDL) await ds.knex.raw(ddl)
    const schema = await introspect(reader)
    const stores = schema.tables.find((t) => t.name === 'stores')!
    const regions = schema.tables.find((t) => t.name === 'regions')!
    expect(stores.primaryKey).toEqual(['store_id'])
    expect(stores.foreignKeys).toEqual([
      { columns: ['region_id'], refTable: 'regions', refColumns: ['region_id'] },
    ])
    expect(Object.fromEntries(stores.columns.map((c) => [c.name, c.type]))).toEqual({
      store_id: 'integer',
      region_id: 'string',
      opened: 'date',
      active: 'boolean',
      area: 'decimal',
    })
    expect(regions.columns.find((c) => c.name === 'region_name')?.unique).toBe(true)
    expect(stores.columns.find((c) => c.name === 'region_id')?.nullable).toBe(false)
  } finally {
    if (reader !== ds) await reader.knex.destroy()
    await ds.knex.destroy()
  }
}

describe('introspect on SQLite', () => {
  it('reads tables, types, primary, unique and foreign keys', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nl2q-db-'))
    await checkIntrospection(`sqlite:${join(dir, 'x.sqlite')}`)
  })

  it('opens read-only handles that refuse writes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nl2q-db-'))
    const rw = openDataSource(`sqlite:${join(dir, 'ro.sqlite')}`)
    await rw.knex.raw('CREATE TABLE t (x INT)')
    await rw.knex.destroy()
    const ro = openDataSource(`sqlite:${join(dir, 'ro.sqlite')}`, { readOnly: true })
    await expect(ro.knex.raw('INSERT INTO t VALUES (1)')).rejects.toThrow(/readonly|read-only|query_only/i)
    await ro.knex.destroy()
  })
})

describe('introspect on MariaDB', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>
  beforeAll(async () => {
    db = await createTestDatabase()
  })
  afterAll(async () => db?.drop())

  it('reads tables, types, primary, unique and foreign keys', async () => {
    await checkIntrospection(db.url)
  })
})

describe('introspect on MariaDB as a SELECT-only user', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>
  let user: Awaited<ReturnType<typeof createSelectOnlyUser>>
  beforeAll(async () => {
    db = await createTestDatabase()
    user = await createSelectOnlyUser(db.name)
  })
  afterAll(async () => {
    await user?.drop()
    await db?.drop()
  })

  // MariaDB 10.11 hides information_schema.TABLE_CONSTRAINTS rows from a `GRANT SELECT` account;
  // joining it made every foreign key vanish, so row policies could not propagate.
  it('finds the same primary, unique and foreign keys as the owner does', async () => {
    await checkIntrospection(db.url, user.url)
  })
})

describe('introspect on PostgreSQL as a SELECT-only role', () => {
  let db: Awaited<ReturnType<typeof createTestPgDatabase>>
  let role: Awaited<ReturnType<typeof createPgSelectOnlyRole>> | undefined
  beforeAll(async () => {
    db = await createTestPgDatabase()
  })
  afterAll(async () => {
    await db?.drop()
    await role?.drop()
  })

  // information_schema.table_constraints lists only tables the role owns: a GRANT SELECT reader
  // would see no key there. pg_catalog shows them to everyone.
  it('finds the same primary, unique and foreign keys as the owner does', async () => {
    const owner = openDataSource(db.url)
    try {
      for (const ddl of DDL) await owner.knex.raw(ddl)
    } finally {
      await owner.knex.destroy()
    }
    role = await createPgSelectOnlyRole(db.url)
    // the tables exist now: checkIntrospection's DDL would fail, so run its checks on a fresh schema
    const reader = openDataSource(role.url, { readOnly: true })
    try {
      const schema = await introspect(reader)
      const stores = schema.tables.find((t) => t.name === 'stores')!
      expect(stores.primaryKey).toEqual(['store_id'])
      expect(stores.foreignKeys).toEqual([
        { columns: ['region_id'], refTable: 'regions', refColumns: ['region_id'] },
      ])
      expect(Object.fromEntries(stores.columns.map((c) => [c.name, c.type]))).toEqual({
        store_id: 'integer',
        region_id: 'string',
        opened: 'date',
        active: 'boolean',
        area: 'decimal',
      })
      const regions = schema.tables.find((t) => t.name === 'regions')!
      expect(regions.columns.find((c) => c.name === 'region_name')?.unique).toBe(true)
      expect(stores.columns.find((c) => c.name === 'region_id')?.nullable).toBe(false)
      // and the role really is read-only: its pool refuses a write
      await expect(reader.knex.raw('INSERT INTO regions VALUES (?, ?)', ['x', 'y'])).rejects.toThrow(
        /read-only|permission denied/,
      )
    } finally {
      await reader.knex.destroy()
    }
  })
})

describe('introspect on PostgreSQL as a role with SELECT on some tables only', () => {
  let db: Awaited<ReturnType<typeof createTestPgDatabase>>
  let role: Awaited<ReturnType<typeof createPgSelectOnlyRole>> | undefined
  beforeAll(async () => {
    db = await createTestPgDatabase()
  })
  afterAll(async () => {
    await db?.drop()
    await role?.drop()
  })

  // pg_class lists every table of the schema; one the role cannot read made the value index fail
  // with "permission denied", so the tenant never opened.
  it('sees only the tables and columns it may read, and the tenant opens', async () => {
    const owner = openDataSource(db.url)
    try {
      for (const ddl of DDL) await owner.knex.raw(ddl)
      await owner.knex.raw(
        'CREATE TABLE payroll (id INT PRIMARY KEY, region_id VARCHAR(8) REFERENCES regions(region_id), salary INT)',
      )
      await owner.knex.raw('CREATE TABLE secrets (id INT PRIMARY KEY, secret VARCHAR(32))')
      await owner.knex.raw(`INSERT INTO regions VALUES ('N', 'North'), ('S', 'South')`)
      await owner.knex.raw(`INSERT INTO stores VALUES (1, 'N', '2024-01-02', true, 10.5)`)
      await owner.knex.raw(`INSERT INTO payroll VALUES (1, 'N', 100)`)
      await owner.knex.raw(`INSERT INTO secrets VALUES (1, 'hunter2')`)
    } finally {
      await owner.knex.destroy()
    }
    role = await createPgSelectOnlyRole(db.url, 'public', [
      'GRANT SELECT ON regions, stores TO ROLE',
      'GRANT SELECT (id, region_id) ON payroll TO ROLE',
    ])
    const reader = openDataSource(role.url, { readOnly: true })
    try {
      const schema = await introspect(reader)
      expect(schema.tables.map((t) => t.name).sort()).toEqual(['payroll', 'regions', 'stores'])
      const payroll = schema.tables.find((t) => t.name === 'payroll')!
      expect(payroll.columns.map((c) => c.name)).toEqual(['id', 'region_id'])
      expect(payroll.primaryKey).toEqual(['id'])
      expect(payroll.foreignKeys).toEqual([
        { columns: ['region_id'], refTable: 'regions', refColumns: ['region_id'] },
      ])
      const engine = await openEngine(reader, { model: null })
      expect(engine.summarize(localPrincipal('t')).map((s) => s.name).length).toBeGreaterThan(0)
    } finally {
      await reader.knex.destroy()
    }
  })
})

describe('TLS from the URL reaches the driver', () => {
  // The test servers speak plain TCP only: a connection that insists on TLS must fail, not fall
  // back silently as it did when the query was dropped.
  it('fails to connect with sslmode=require to a PostgreSQL without TLS, and connects with disable', async () => {
    const url = new URL(TEST_PG_URL)
    for (const [mode, ok] of [
      ['require', false],
      ['disable', true],
    ] as const) {
      url.search = `?sslmode=${mode}`
      const ds = openDataSource(url.toString())
      try {
        const run = ds.knex.raw('SELECT 1 AS x')
        if (ok) await expect(run).resolves.toBeTruthy()
        else await expect(run).rejects.toThrow(/SSL/)
      } finally {
        await ds.knex.destroy()
      }
    }
  })
})

describe('MariaDB connections', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>
  beforeAll(async () => {
    db = await createTestDatabase()
  })
  afterAll(async () => db?.drop())

  it('drop NO_BACKSLASH_ESCAPES so that bound values cannot escape their string literal', async () => {
    const ds = openDataSource(db.url, { pool: { max: 1 } })
    try {
      await ds.knex.raw('CREATE TABLE secrets (id INT PRIMARY KEY, v VARCHAR(32))')
      await ds.knex('secrets').insert({ id: 1, v: 'x' })
      const conn = await ds.knex.client.acquireConnection()
      try {
        // what a server configured with NO_BACKSLASH_ESCAPES hands a new connection
        await conn
          .promise()
          .query("SET SESSION sql_mode = CONCAT(@@SESSION.sql_mode, ',NO_BACKSLASH_ESCAPES')")
        await new Promise<void>((resolve, reject) =>
          withSafeSqlMode(conn, (err) => (err ? reject(err) : resolve())),
        )
        const [[{ m }]] = await conn.promise().query('SELECT @@SESSION.sql_mode AS m')
        expect(m).not.toMatch(/NO_BACKSLASH_ESCAPES/)
      } finally {
        await ds.knex.client.releaseConnection(conn)
      }
      // the same connection now treats a backslash as an escape, so the value stays one literal
      expect(await ds.knex('secrets').where('v', "\\' OR 1=1 -- ")).toEqual([])
    } finally {
      await ds.knex.destroy()
    }
  })
})
