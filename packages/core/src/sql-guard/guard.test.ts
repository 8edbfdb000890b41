import { describe, expect, it } from 'vitest'
import { HubError } from '../errors.ts'
import type { Principal } from '../principal.ts'
import { guardSql } from './guard.ts'
import { pharmaModel, testPrincipal } from './testing/pharma-fixture.ts'

const admin = testPrincipal(['admin'])
const scoped = testPrincipal(['analyst'], { territories: ['ACM-T01'] })

function guard(
  sql: string,
  dialect: 'mysql' | 'sqlite' = 'mysql',
  principal: Principal = admin,
  maxRows = 100,
) {
  return guardSql(sql, { dialect, model: pharmaModel(dialect), principal, maxRows })
}

function rejected(sql: string, dialect: 'mysql' | 'sqlite' = 'mysql'): string {
  try {
    guard(sql, dialect)
  } catch (err) {
    expect(err).toBeInstanceOf(HubError)
    expect((err as HubError).code).toBe('SQL_REJECTED')
    return (err as HubError).message
  }
  throw new Error(`accepted: ${sql}`)
}

describe('guardSql output', () => {
  it('binds every string and reports the tables read', () => {
    const g = guard(
      "SELECT h.last_name FROM hcps h JOIN territories t ON t.territory_id = h.territory_id WHERE t.region = 'West'",
    )
    expect(g.sql).not.toContain('West')
    expect(g.bindings).toEqual(['West'])
    expect(g.tables).toEqual(['hcps', 'territories'])
  })

  it('keeps a smaller LIMIT and lowers a larger one to maxRows + 1, offsets untouched', () => {
    expect(guard('SELECT hcp_id FROM hcps LIMIT 5').sql).toMatch(/LIMIT 5$/)
    expect(guard('SELECT hcp_id FROM hcps LIMIT 500').sql).toMatch(/LIMIT 101$/)
    expect(guard('SELECT hcp_id FROM hcps LIMIT 2, 500').sql).toMatch(/LIMIT 2, 101$/)
    expect(guard('SELECT hcp_id FROM hcps LIMIT 500 OFFSET 3').sql).toMatch(/LIMIT 101 OFFSET 3$/)
    expect(guard('SELECT hcp_id FROM hcps UNION SELECT rep_id FROM reps LIMIT 500').sql).toMatch(
      /^select \* from \(.*\) as __nl2q_q limit 101$/,
    )
  })

  it('puts the row scope inside a derived table under the original alias', () => {
    const g = guard('SELECT COUNT(*) FROM hcps AS x', 'mysql', scoped)
    expect(g.sql).toMatch(
      /FROM \(select .* from `hcps` as `__nl2q_s0` where `__nl2q_s0`.`territory_id` in \(\?\)\) AS `x`/,
    )
    expect(g.bindings).toEqual(['ACM-T01'])
  })

  it('fails closed for a principal without the attribute', () => {
    const g = guard('SELECT COUNT(*) FROM calls', 'sqlite', testPrincipal(['viewer']))
    expect(g.sql).toContain('1 = 0')
  })

  it('lists only visible columns in the derived table', () => {
    const g = guard('SELECT * FROM hcps')
    expect(g.sql).not.toContain('crm_account_id')
  })
})

describe('guardSql rejections', () => {
  it.each([
    [
      'SELECT SUM(trx) OVER (PARTITION BY hcp_id ORDER BY rx_id ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) FROM prescriptions',
      /window frames/,
    ],
    ['SELECT hcp_id FROM hcps ORDER BY MD5(hcp_id)', /MD5\(\) is not on the allow-list/],
    ['SELECT COUNT(*) FROM hcps GROUP BY segment WITH ROLLUP', /WITH ROLLUP is not supported/],
    ['SELECT CAST(npi AS CHAR CHARACTER SET latin1) FROM hcps', /type modifiers|parsed|not supported/],
    ["SELECT X'41'", /could not be parsed|not supported/],
    ['SELECT 0x41', /Hex/],
    ['SELECT hcp_id FROM hcps LIMIT 1e3', /LIMIT|parsed/],
    ['SELECT 1 FROM hcps h1 NATURAL JOIN hcps h2', /parsed|not supported/],
    ['SELECT SQL_CALC_FOUND_ROWS hcp_id FROM hcps', /SELECT options/],
    ['SELECT CONVERT(hcp_id USING latin1) FROM hcps', /CONVERT|not/],
    ['SELECT hcp_id COLLATE utf8mb4_bin FROM hcps', /not support|Unsupported/],
    ['SELECT CAST(hcp_id AS BINARY) FROM hcps', /CAST to BINARY/],
    ["SELECT hcp_id FROM hcps WHERE hcp_id REGEXP 'x'", /REGEXP|parsed/],
    ['SELECT `__nl2q_t0`.hcp_id FROM hcps', /not allowed|reserved/],
    ['SELECT hcp_id AS __nl2q_q FROM hcps', /reserved/],
    ['SELECT * FROM hcps, LATERAL (SELECT 1) x', /not support|parsed/],
    ["SELECT JSON_EXTRACT(npi, '$.a') FROM hcps", /JSON_EXTRACT\(\) is not on the allow-list/],
  ])('%s', (sql, message) => {
    expect(rejected(sql)).toMatch(message)
  })

  it('rejects a deeply nested expression instead of overflowing the stack', () => {
    const deep = `SELECT ${'('.repeat(3000)}1${')'.repeat(3000)}`
    expect(rejected(deep)).toBeTruthy()
    const chain = `SELECT 1 FROM hcps WHERE ${Array.from({ length: 3000 }, (_, i) => `npi = '${i}'`).join(' OR ')}`
    expect(() => guard(chain)).toThrow(HubError)
  })

  it('accepts CAST to SIGNED INTEGER', () => {
    expect(guard('SELECT CAST(npi AS SIGNED INTEGER) FROM hcps').sql).toContain('SIGNED INTEGER')
  })

  it('accepts a long IN list of values', () => {
    const list = Array.from({ length: 2000 }, (_, i) => `'ACM-H${i}'`).join(', ')
    expect(guard(`SELECT COUNT(*) FROM hcps WHERE hcp_id IN (${list})`).bindings.length).toBe(2000)
  })
})
