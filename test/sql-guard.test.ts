import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { executeReadOnly } from '../packages/core/src/engine/execute.ts'
import { HubError } from '../packages/core/src/errors.ts'
import { guardSql } from '../packages/core/src/sql-guard/index.ts'
import { pharmaCounts, testPrincipal } from '../packages/core/src/sql-guard/testing/pharma-fixture.ts'
import {
  openMariaDbSource,
  openPostgresSource,
  openSqliteSource,
  type PharmaSource,
  runDirect,
  runGuarded,
} from '../packages/core/src/sql-guard/testing/sources.ts'

/**
 * Public bypasses of SQL MCP servers and BI tools. Each must be rejected by the guard with
 * SQL_REJECTED, for the most privileged principal, on both dialects, and leave every table as it was.
 */
const BYPASSES = [
  'SELECT 1; COMMIT;',
  'SELECT 1; DELETE FROM calls',
  'SELECT 1;\nDELETE FROM calls;',
  'SELECT 1 -- x\n; DROP TABLE calls',
  '/* x */ DELETE FROM calls',
  '-- x\nDROP TABLE calls',
  '# x\nDROP TABLE calls',
  'SELECT /*! 1; DROP TABLE calls */',
  'SELECT 1 /*!50000 ; DROP TABLE calls */',
  'SELECT 1 /*M!100000 ; DROP TABLE calls */',
  'SELECT /*+ MAX_EXECUTION_TIME(1) */ 1',
  'WITH d AS (DELETE FROM calls RETURNING *) SELECT * FROM d',
  "WITH x AS (SELECT 1) UPDATE calls SET status = 'x'",
  'WITH x AS (SELECT 1) INSERT INTO calls (call_id) SELECT 1 FROM x',
  'WITH x AS (SELECT 1 AS n) DELETE FROM calls',
  "SELECT * INTO OUTFILE '/tmp/nl2q_guard_x' FROM calls",
  "SELECT * FROM calls INTO OUTFILE '/tmp/nl2q_guard_x'",
  "SELECT * FROM calls INTO DUMPFILE '/tmp/nl2q_guard_x'",
  'SELECT call_id INTO @v FROM calls',
  "SELECT LOAD_FILE('/etc/passwd')",
  "REPLACE INTO calls (call_id) VALUES ('x')",
  "INSERT OR REPLACE INTO calls (call_id) VALUES ('x')",
  "INSERT INTO calls (call_id) VALUES ('x')",
  "UPDATE calls SET status = 'x'",
  'DELETE FROM calls',
  'TRUNCATE TABLE calls',
  'DROP TABLE calls',
  'ALTER TABLE calls ADD COLUMN x int',
  'CREATE TABLE x (a int)',
  'CREATE TEMPORARY TABLE x AS SELECT * FROM calls',
  'MERGE INTO calls USING hcps ON 1 = 1 WHEN MATCHED THEN DELETE',
  'CALL p()',
  'SET @a = 1',
  'SET GLOBAL max_connections = 1',
  'SET SESSION TRANSACTION READ WRITE',
  'LOCK TABLES calls WRITE',
  'UNLOCK TABLES',
  "GRANT ALL ON *.* TO 'x'@'%'",
  "REVOKE ALL ON *.* FROM 'x'@'%'",
  'SELECT * FROM calls FOR UPDATE',
  'SELECT * FROM calls LOCK IN SHARE MODE',
  'SELECT * FROM calls FOR SHARE',
  'SELECT SLEEP(5)',
  'SELECT * FROM calls WHERE call_id = 1 OR SLEEP(1)',
  "SELECT BENCHMARK(1000000, MD5('a'))",
  "SELECT GET_LOCK('x', 10)",
  "SELECT RELEASE_LOCK('x')",
  'SELECT * FROM information_schema.tables',
  'SELECT * FROM INFORMATION_SCHEMA.TABLES',
  'SELECT table_name FROM information_schema.columns',
  'SELECT * FROM mysql.user',
  'SELECT * FROM `mysql`.`user`',
  'SELECT * FROM performance_schema.threads',
  'SELECT * FROM sys.version',
  'SELECT * FROM calls WHERE 1 = 1 UNION SELECT * FROM information_schema.tables',
  'SELECT * FROM (SELECT * FROM mysql.user) x',
  'SELECT (SELECT COUNT(*) FROM information_schema.tables)',
  'SELECT * FROM sqlite_master',
  'SELECT * FROM sqlite_schema',
  'SELECT * FROM sqlite_temp_master',
  'SELECT * FROM "sqlite_master"',
  "SELECT * FROM pragma_table_info('calls')",
  'SELECT * FROM pragma_database_list',
  "ATTACH DATABASE '/tmp/nl2q_guard_x' AS y",
  'DETACH DATABASE y',
  'PRAGMA writable_schema = 1',
  'PRAGMA query_only = 0',
  'VACUUM',
  "VACUUM INTO '/tmp/nl2q_guard_x'",
  'BEGIN',
  'START TRANSACTION',
  'COMMIT',
  'ROLLBACK',
  'HANDLER calls OPEN',
  'HANDLER calls READ FIRST',
  'EXPLAIN SELECT * FROM calls',
  'SHOW TABLES',
  'DESCRIBE calls',
  'DO SLEEP(1)',
  "SELECT load_extension('/tmp/x')",
  "SELECT readfile('/etc/passwd')",
  'SELECT @@version',
  'SELECT VERSION()',
  'SELECT DATABASE()',
  'SELECT USER()',
  'SELECT sqlite_version()',
  'SELECT * FROM nl2q_other_tenant.calls',
  'SELECT * FROM main.calls',
  'SELECT crm_account_id FROM hcps',
  'SELECT h.crm_account_id FROM hcps h',
  'SELECT * FROM knex_migrations',
  'TABLE calls',
  'VALUES (1)',
  'sElEcT 1; dElEtE fRoM calls',
  'DeLeTe FrOm calls',
  'SELECT 1\uFF1B DROP TABLE calls',
  '\uFF33\uFF25\uFF2C\uFF25\uFF23\uFF34 1',
  'SELECT\u00A01',
  'SELECT 1\u200B; DROP TABLE calls',
  'DEL/**/ETE FROM calls',
  'DR/**/OP TABLE calls',
  'SELECT 1 FROM calls WHERE call_id = ? ',
  'SELECT :x',
  'SELECT $1',
  'WITH RECURSIVE r AS (SELECT 1 AS n UNION ALL SELECT n + 1 FROM r) SELECT COUNT(*) FROM r',
  'WITH r AS (SELECT 1 AS n UNION ALL SELECT n + 1 FROM r) SELECT COUNT(*) FROM r',
  'WITH calls AS (SELECT 1 AS call_id) SELECT * FROM calls',
  "SELECT 'x' FROM calls PROCEDURE ANALYSE()",
  'SELECT * FROM calls c1, calls c2 WHERE c1.call_id = c2.call_id OR (SELECT SLEEP(1))',
  '',
  '   ',
  '/* only a comment */',
  ';',
]

const admin = testPrincipal(['admin'])
/** Bypasses that try to write: also sent raw to the runner (on MariaDB not those that need root rights). */
const RAW_WRITE =
  /\b(delete|drop|update|insert|replace|truncate|alter|create|merge|attach|detach|pragma|vacuum)\b/i
const ROOT_ONLY = /outfile|dumpfile|grant|revoke|\bset\b|lock|sleep|benchmark|handler|call/i

function expectRejected(fn: () => unknown): HubError {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(HubError)
    expect((err as HubError).code).toBe('SQL_REJECTED')
    expect((err as HubError).message.length).toBeGreaterThan(10)
    return err as HubError
  }
  throw new Error('expected SQL_REJECTED but the SQL was accepted')
}

for (const [dialectName, open] of [
  ['SQLite', openSqliteSource],
  ['MariaDB', openMariaDbSource],
  ['PostgreSQL', openPostgresSource],
] as const) {
  describe(`guarded SQL on ${dialectName}`, () => {
    let source: PharmaSource
    let before: Record<string, number>
    beforeAll(async () => {
      source = await open()
      before = await pharmaCounts(source.writer.knex)
    })
    afterAll(async () => {
      await source?.close()
    })

    it.each(BYPASSES.map((sql) => [sql]))('rejects %j and changes nothing', async (sql) => {
      const dialect = source.reader.dialect
      expectRejected(() => guardSql(sql, { dialect, model: source.model, principal: admin, maxRows: 10 }))
      // The runner is the second line: the same text sent straight to it must not write either.
      // (On MariaDB only the plain writes: the test server's root account must not run SET GLOBAL.)
      if (RAW_WRITE.test(sql) && (source.name === 'sqlite' || !ROOT_ONLY.test(sql))) {
        await executeReadOnly(source.reader, { sql, bindings: [] }, { timeoutMs: 300, maxRows: 10 }).catch(
          (err) => {
            expect(err).toBeInstanceOf(HubError)
          },
        )
      }
      expect(await pharmaCounts(source.writer.knex)).toEqual(before)
    })

    it('says what is not allowed and how to fix it', () => {
      const dialect = source.reader.dialect
      const guard = (sql: string) =>
        expectRejected(() => guardSql(sql, { dialect, model: source.model, principal: admin, maxRows: 10 }))
          .message
      expect(guard('SELECT 1; DELETE FROM calls')).toMatch(/one statement/i)
      expect(guard('DELETE FROM calls')).toMatch(/DELETE is not allowed/)
      expect(guard('SELECT SLEEP(1)')).toMatch(/SLEEP\(\) is not allowed/)
      expect(guard('SELECT * FROM information_schema.tables')).toMatch(/without a database or schema prefix/)
      expect(guard('SELECT * FROM nope')).toMatch(/Unknown table "nope". Tables you can query: calls, hcps/)
      if (dialect === 'mysql') expect(guard('SELECT * FROM calls FOR UPDATE')).toMatch(/Locking reads/)
      expect(guard('SELECT /*! 1 */')).toMatch(/Executable comments/)
      expect(guard('SELECT 1\uFF1B')).toMatch(/U\+FF1B/)
    })

    it('accepts a string that only looks like an attack, and returns it as data', async () => {
      const sql =
        source.name === 'mariadb'
          ? "SELECT 'a\\'; DROP TABLE calls; -- ' AS s"
          : "SELECT 'a''; DROP TABLE calls; -- ' AS s"
      const r = await runGuarded(source, sql, admin)
      expect(r.rows).toEqual([["a'; DROP TABLE calls; -- "]])
      expect(r.guarded.sql).not.toContain('DROP')
      expect(await pharmaCounts(source.writer.knex)).toEqual(before)
    })

    it('regenerates the SQL with every literal bound, never passing the text through', async () => {
      const r = await runGuarded(
        source,
        "SELECT product_name FROM products WHERE product_name = 'O''Brien''s Thyroid' OR product_name LIKE 'Tir%'",
        admin,
      )
      expect(r.rows.map((x) => x[0]).sort()).toEqual(["O'Brien's Thyroid", 'Tirosint'])
      expect(r.guarded.sql).not.toContain('Brien')
      expect(r.guarded.bindings).toEqual(["O'Brien's Thyroid", 'Tir%'])
    })

    it('caps rows at maxRows + 1 so that truncation is visible', async () => {
      const capped = await runGuarded(source, 'SELECT hcp_id FROM hcps', admin, 5)
      expect(capped.rows.length).toBe(5)
      expect(capped.truncated).toBe(true)
      expect(capped.guarded.sql).toMatch(/LIMIT 6$/i)
      const smaller = await runGuarded(source, 'SELECT hcp_id FROM hcps ORDER BY hcp_id LIMIT 3', admin, 5)
      expect(smaller.rows).toEqual([['ACM-H00001'], ['ACM-H00002'], ['ACM-H00003']])
      expect(smaller.truncated).toBe(false)
      const union = await runGuarded(
        source,
        'SELECT hcp_id FROM hcps UNION ALL SELECT rep_id FROM reps',
        admin,
        7,
      )
      expect(union.rows.length).toBe(7)
      expect(union.truncated).toBe(true)
      const all = await runGuarded(source, 'SELECT hcp_id FROM hcps', admin, 20)
      expect(all.truncated).toBe(false)
    })

    it('keeps duplicate column names of a join (no derived-table wrapper on plain SELECTs)', async () => {
      const r = await runGuarded(
        source,
        "SELECT * FROM hcps h JOIN territories t ON t.territory_id = h.territory_id WHERE h.hcp_id = 'ACM-H00001'",
        admin,
      )
      expect(r.columns.filter((c) => c === 'territory_id').length).toBe(2)
    })

    it('hides columns the principal may not see, also from SELECT *', async () => {
      const viewer = testPrincipal(['viewer'], { territories: ['ACM-T01'] })
      const star = await runGuarded(source, 'SELECT * FROM hcps', viewer)
      expect(star.columns).not.toContain('crm_account_id')
      expect(star.columns).toContain('hcp_id')
      const reps = await runGuarded(source, 'SELECT * FROM reps', viewer)
      expect(reps.columns).not.toContain('email')
      expectRejected(() =>
        guardSql('SELECT email FROM reps', {
          dialect: source.reader.dialect,
          model: source.model,
          principal: viewer,
          maxRows: 10,
        }),
      )
      const analyst = testPrincipal(['analyst'], { territories: ['ACM-T01'] })
      const emails = await runGuarded(source, 'SELECT email FROM reps ORDER BY email', analyst)
      expect(emails.rows).toEqual(
        await runDirect(source, "SELECT email FROM reps WHERE territory_id = 'ACM-T01' ORDER BY email"),
      )
    })

    it('stops a runaway join at the timeout (SQLite through the per-row deadline)', async () => {
      const sql = 'SELECT COUNT(*) FROM prescriptions a, prescriptions b, prescriptions c, prescriptions d'
      const started = Date.now()
      const err = await runGuarded(source, sql, admin, 10, 300).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(HubError)
      expect((err as HubError).code).toBe('QUERY_TIMEOUT')
      expect(Date.now() - started).toBeLessThan(2500)
      // a single-table query does not pay for the deadline check
      const single = guardSql('SELECT COUNT(*) FROM prescriptions', {
        dialect: source.reader.dialect,
        model: source.model,
        principal: admin,
        maxRows: 10,
      })
      expect(single.sql).not.toContain('nl2q_alive')
    })

    it('leaves every table as it was', async () => {
      expect(await pharmaCounts(source.writer.knex)).toEqual(before)
    })
  })
}
