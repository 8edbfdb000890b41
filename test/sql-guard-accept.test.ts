import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { testPrincipal } from '../packages/core/src/sql-guard/testing/pharma-fixture.ts'
import {
  openMariaDbSource,
  openPostgresSource,
  openSqliteSource,
  type PharmaSource,
  runDirect,
  runGuarded,
} from '../packages/core/src/sql-guard/testing/sources.ts'

/**
 * Legitimate analytic SQL must pass the guard and mean the same thing afterwards: for an
 * unrestricted principal the guarded answer equals the answer of the original text run directly.
 * [sql, direct SQL when it differs (hidden columns), dialects]
 */
type Dialect = 'sqlite' | 'mysql' | 'postgresql'
type Case = [sql: string, direct?: string | null, only?: Dialect | Dialect[]]

const CASES: Case[] = [
  ['SELECT * FROM products ORDER BY product_id'],
  [
    'select product_name as "Product", list_price * 2 as doubled from products where list_price between 100 and 115 order by 1',
  ],
  [
    'SELECT specialty, COUNT(*) n, COUNT(DISTINCT city) FROM hcps GROUP BY specialty HAVING COUNT(*) > 2 ORDER BY n DESC, specialty',
  ],
  [
    "SELECT CASE WHEN trx > 3 THEN 'high' WHEN trx > 1 THEN 'mid' ELSE 'low' END AS bucket, SUM(trx) FROM prescriptions GROUP BY 1 ORDER BY 1",
  ],
  [
    'SELECT payer_type, ROUND(AVG(trx), 2), MIN(week_ending), MAX(week_ending) FROM prescriptions GROUP BY payer_type ORDER BY payer_type',
  ],
  [
    'SELECT h.last_name, p.product_name FROM calls c JOIN hcps h ON h.hcp_id = c.hcp_id LEFT JOIN products p ON p.product_id = c.product_id WHERE c.product_id IS NULL ORDER BY 1 LIMIT 5',
  ],
  [
    "SELECT COALESCE(product_id, 'none') AS p, COUNT(*) FROM calls GROUP BY COALESCE(product_id, 'none') ORDER BY 1",
    null,
    // PostgreSQL: the two bound 'none's are two parameters, so the expressions differ (GROUP BY 1 works)
    ['sqlite', 'mysql'],
  ],
  ["SELECT COALESCE(product_id, 'none') AS p, COUNT(*) FROM calls GROUP BY 1 ORDER BY 1", null, 'postgresql'],
  [
    "SELECT to_char(date_trunc('month', week_ending), 'YYYY-MM') AS m, SUM(trx) FROM prescriptions GROUP BY 1 ORDER BY 1",
    null,
    'postgresql',
  ],
  ["SELECT product_name FROM products WHERE product_name ILIKE 'tiro%'", null, 'postgresql'],
  ["SELECT first_name || ' ' || last_name FROM hcps ORDER BY hcp_id LIMIT 2", null, 'postgresql'],
  [
    "SELECT COUNT(*) FROM hcps WHERE last_name LIKE 'Last1%' AND segment IN ('A', 'B') AND NOT (city = 'City1')",
  ],
  [
    'SELECT territory_id, COUNT(*) FROM hcps GROUP BY territory_id ORDER BY COUNT(*) DESC, territory_id LIMIT 2 OFFSET 1',
  ],
  ['SELECT hcp_id, SUM(trx) OVER (PARTITION BY hcp_id) FROM prescriptions ORDER BY rx_id LIMIT 5'],
  [
    'SELECT rx_id, ROW_NUMBER() OVER (PARTITION BY hcp_id ORDER BY rx_id) AS rn FROM prescriptions ORDER BY rx_id LIMIT 10',
  ],
  [
    "SELECT strftime('%Y-%m', week_ending) AS m, SUM(trx) FROM prescriptions GROUP BY m ORDER BY m",
    null,
    'sqlite',
  ],
  [
    "SELECT YEAR(week_ending), QUARTER(week_ending), DATE_FORMAT(week_ending, '%Y-%m'), SUM(trx) FROM prescriptions GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
    null,
    'mysql',
  ],
  [
    "SELECT week_ending FROM prescriptions WHERE week_ending >= DATE '2024-05-01' ORDER BY 1 LIMIT 3",
    null,
    'mysql',
  ],
  [
    'SELECT DATE_SUB(MAX(week_ending), INTERVAL 3 MONTH), MAX(week_ending) + INTERVAL 1 DAY FROM prescriptions',
    null,
    'mysql',
  ],
  ["SELECT date(MAX(week_ending), '-3 months') FROM prescriptions", null, 'sqlite'],
  [
    'SELECT CAST(list_price AS INTEGER), CAST(trx AS REAL) FROM products, prescriptions WHERE rx_id = 1 ORDER BY 1',
    null,
    'sqlite',
  ],
  [
    'SELECT CAST(list_price AS SIGNED), CAST(trx AS DECIMAL(10, 2)) FROM products, prescriptions WHERE rx_id = 1 ORDER BY 1',
    null,
    'mysql',
  ],
  ["SELECT week_ending FROM prescriptions WHERE week_ending >= '2024-05-01' ORDER BY 1 LIMIT 3"],
  ['SELECT DISTINCT channel FROM calls ORDER BY channel'],
  [
    'SELECT * FROM products WHERE product_id IN (SELECT product_id FROM prescriptions WHERE trx > 6) ORDER BY 1',
  ],
  ['SELECT COUNT(*) FROM (SELECT hcp_id FROM prescriptions GROUP BY hcp_id HAVING SUM(trx) > 10) x'],
  ['SELECT 1 + 2 * 3, (1 + 2) * 3, 7 / 2, -trx, (trx - nrx) * 2 FROM prescriptions ORDER BY rx_id LIMIT 1'],
  [
    "SELECT NULLIF(status, 'Planned'), IFNULL(product_id, 'x') FROM calls ORDER BY call_id LIMIT 6",
    null,
    ['sqlite', 'mysql'],
  ],
  [
    "SELECT NULLIF(status, 'Planned'), COALESCE(product_id, 'x') FROM calls ORDER BY call_id LIMIT 6",
    null,
    'postgresql',
  ],
  [
    'SELECT a.territory_id, a.n FROM (SELECT territory_id, COUNT(*) AS n FROM hcps GROUP BY territory_id) a WHERE a.n > 1 ORDER BY a.n DESC, 1',
  ],
  [
    'WITH x AS (SELECT hcp_id, SUM(trx) AS t FROM prescriptions GROUP BY hcp_id) SELECT h.segment, AVG(x.t) FROM x JOIN hcps h ON h.hcp_id = x.hcp_id GROUP BY h.segment ORDER BY 1',
  ],
  [
    'WITH a AS (SELECT territory_id FROM territories), b (tid) AS (SELECT territory_id FROM a) SELECT COUNT(*) FROM b',
  ],
  ['SELECT status FROM calls UNION SELECT channel FROM calls ORDER BY 1'],
  [
    '(SELECT hcp_id FROM hcps ORDER BY hcp_id LIMIT 2) UNION ALL (SELECT rep_id FROM reps ORDER BY rep_id LIMIT 2)',
    null,
    'mysql',
  ],
  ['SELECT TRUE, FALSE, NULL'],
  ['-- top\nSELECT /* c */ COUNT(*) -- trailing\nFROM calls;  \n-- after', 'SELECT COUNT(*) FROM calls'],
  ["SELECT 'it''s', 'a?b', ':x', '--', '/*', ';'"],
  ['SELECT \'a\\nb\', "dq"', null, 'mysql'],
  ['# hash comment\nSELECT 1', 'SELECT 1', 'mysql'],
  ['SELECT COUNT(*) AS "Total Rx" FROM prescriptions'],
  ["SELECT first_name || ' ' || last_name FROM hcps ORDER BY hcp_id LIMIT 2", null, 'sqlite'],
  ["SELECT CONCAT(first_name, ' ', last_name) FROM hcps ORDER BY hcp_id LIMIT 2", null, 'mysql'],
  [
    "SELECT h.* FROM hcps h WHERE h.hcp_id = 'ACM-H00003'",
    "SELECT hcp_id, npi, first_name, last_name, specialty, city, state, territory_id, segment FROM hcps WHERE hcp_id = 'ACM-H00003'",
  ],
  [
    'SELECT t.region, COUNT(DISTINCT h.hcp_id) FROM territories t LEFT JOIN hcps h ON h.territory_id = t.territory_id GROUP BY t.region ORDER BY 1',
  ],
  [
    'SELECT p.product_name FROM products p WHERE NOT EXISTS (SELECT 1 FROM calls c WHERE c.product_id = p.product_id) ORDER BY 1',
  ],
  ['SELECT COUNT(*) FROM calls c1 CROSS JOIN products', null, 'mysql'],
  ['SELECT COUNT(*) FROM calls c1, products'],
  ["SELECT c.call_id FROM calls c, hcps h WHERE h.hcp_id = c.hcp_id AND h.segment = 'A' ORDER BY 1 LIMIT 3"],
  [
    'SELECT UPPER(product_name), LOWER(manufacturer), LENGTH(product_name), SUBSTR(product_name, 1, 3), TRIM(product_name), ABS(-list_price) FROM products ORDER BY 1',
  ],
  [
    "SELECT hcp_id FROM hcps WHERE territory_id IN (SELECT territory_id FROM territories WHERE region = 'Midwest') ORDER BY 1",
  ],
  [
    "SELECT COUNT(*) FROM calls WHERE duration_minutes BETWEEN 10 AND 20 AND call_date NOT BETWEEN '2024-11-01' AND '2024-11-30'",
  ],
  [
    'SELECT LAG(trx) OVER (PARTITION BY hcp_id ORDER BY rx_id), RANK() OVER (PARTITION BY hcp_id ORDER BY trx DESC) FROM prescriptions ORDER BY rx_id LIMIT 8',
  ],
]

const admin = testPrincipal(['admin'])

for (const [label, name, open] of [
  ['SQLite', 'sqlite', openSqliteSource],
  ['MariaDB', 'mysql', openMariaDbSource],
  ['PostgreSQL', 'postgresql', openPostgresSource],
] as const) {
  describe(`guarded SQL keeps the meaning of accepted queries on ${label}`, () => {
    let source: PharmaSource
    beforeAll(async () => {
      source = await open()
    })
    afterAll(async () => {
      await source?.close()
    })

    it.each(
      CASES.filter(
        ([, , only]) => !only || only === name || (Array.isArray(only) && only.includes(name)),
      ).map(([sql, direct]) => [sql, direct]),
    )('answers %j as the original would', async (sql, direct) => {
      const got = await runGuarded(source, sql, admin, 10_000)
      expect(got.truncated).toBe(false)
      expect(got.rows).toEqual(await runDirect(source, direct ?? sql))
    })
  })
}
