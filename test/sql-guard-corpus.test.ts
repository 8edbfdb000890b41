import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { executeReadOnly } from '../packages/core/src/engine/execute.ts'
import { HubError } from '../packages/core/src/errors.ts'
import { guardSql } from '../packages/core/src/sql-guard/index.ts'
import {
  pharmaCounts,
  pharmaFingerprint,
  testPrincipal,
} from '../packages/core/src/sql-guard/testing/pharma-fixture.ts'
import {
  openMariaDbSource,
  openPostgresSource,
  openSqliteSource,
  type PharmaSource,
} from '../packages/core/src/sql-guard/testing/sources.ts'
import { CORPORA } from './helpers/fixtures.ts'

/**
 * Every line of the SQL-injection corpora (test/fixtures/corpora), as a whole statement and spliced into a string
 * literal. The guard may accept or reject; it must never throw anything but a HubError, whatever it
 * accepts must run (or fail with a HubError) and nothing may change the data.
 */
const CORPUS_DIR = process.env.NL2Q_SQLI_CORPUS ?? join(CORPORA, 'sqli')
const files = readdirSync(CORPUS_DIR)
  .filter((f) => f.endsWith('.txt'))
  .sort()
const principal = testPrincipal(['analyst'], { territories: ['ACM-T01', 'ACM-T02'] })

for (const [dialectName, open] of [
  ['SQLite', openSqliteSource],
  ['MariaDB', openMariaDbSource],
  ['PostgreSQL', openPostgresSource],
] as const) {
  describe(`SQL-injection corpora against guarded SQL on ${dialectName}`, () => {
    let source: PharmaSource
    let counts: Record<string, number>
    let fingerprint: string
    const tally = { lines: 0, accepted: 0, rejected: 0 }
    beforeAll(async () => {
      source = await open()
      counts = await pharmaCounts(source.writer.knex)
      fingerprint = await pharmaFingerprint(source.writer.knex)
    })
    afterAll(async () => {
      await source?.close()
    })

    it('has corpora to read', () => {
      expect(files.length).toBeGreaterThan(30)
    })

    it.each(files.map((f) => [f]))('%s: only HubErrors, no writes', async (file) => {
      const dialect = source.reader.dialect
      const lines = readFileSync(join(CORPUS_DIR, file), 'utf8')
        .split(/\r?\n/)
        .filter((l) => l.trim() !== '')
      for (const line of lines) {
        tally.lines++
        for (const sql of [line, `SELECT * FROM products WHERE product_name = '${line}'`]) {
          let guarded: ReturnType<typeof guardSql>
          try {
            guarded = guardSql(sql, { dialect, model: source.model, principal, maxRows: 50 })
          } catch (err) {
            expect(err, sql).toBeInstanceOf(HubError)
            expect((err as HubError).code, sql).toBe('SQL_REJECTED')
            tally.rejected++
            continue
          }
          tally.accepted++
          expect(guarded.sql.includes(line) && line.length > 8, `echoed text: ${sql}`).toBe(false)
          await executeReadOnly(source.reader, guarded, { timeoutMs: 2000, maxRows: 50 }).catch(
            (err: unknown) => {
              expect(err, sql).toBeInstanceOf(HubError)
            },
          )
        }
      }
    })

    it('changed no row of any table', async () => {
      expect(tally.lines).toBeGreaterThan(2000)
      expect(tally.rejected).toBeGreaterThan(0)
      expect(await pharmaCounts(source.writer.knex)).toEqual(counts)
      expect(await pharmaFingerprint(source.writer.knex)).toBe(fingerprint)
    })
  })
}
