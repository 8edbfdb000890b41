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
 * A principal with territories ACM-T01 and ACM-T02 must only ever see rows of those territories,
 * however the SQL reaches the tables (joins, subqueries, CTEs, UNIONs, derived tables, OR tricks).
 * Each case pairs the guarded query with trusted SQL that filters by hand.
 */
const T = "('ACM-T01', 'ACM-T02')"
const RX_IN = `(SELECT p.* FROM prescriptions p JOIN hcps h ON h.hcp_id = p.hcp_id WHERE h.territory_id IN ${T})`
const CALLS_IN = `(SELECT c.* FROM calls c JOIN hcps h ON h.hcp_id = c.hcp_id JOIN reps r ON r.rep_id = c.rep_id WHERE h.territory_id IN ${T} AND r.territory_id IN ${T})`

const CASES: [name: string, guarded: string, direct: string][] = [
  ['counts hcps', 'SELECT COUNT(*) FROM hcps', `SELECT COUNT(*) FROM hcps WHERE territory_id IN ${T}`],
  [
    'lists distinct territories of hcps',
    'SELECT DISTINCT territory_id FROM hcps ORDER BY 1',
    `SELECT DISTINCT territory_id FROM hcps WHERE territory_id IN ${T} ORDER BY 1`,
  ],
  [
    'counts territories',
    'SELECT COUNT(*) FROM territories',
    `SELECT COUNT(*) FROM territories WHERE territory_id IN ${T}`,
  ],
  ['counts reps', 'SELECT COUNT(*) FROM reps', `SELECT COUNT(*) FROM reps WHERE territory_id IN ${T}`],
  [
    'counts prescriptions without a join',
    'SELECT COUNT(*), SUM(trx) FROM prescriptions',
    `SELECT COUNT(*), SUM(trx) FROM ${RX_IN} x`,
  ],
  [
    'counts calls (scoped through hcps and reps)',
    'SELECT COUNT(*) FROM calls',
    `SELECT COUNT(*) FROM ${CALLS_IN} x`,
  ],
  ['sees every product', 'SELECT COUNT(*) FROM products', 'SELECT COUNT(*) FROM products'],
  [
    'sums prescriptions by territory through a join',
    'SELECT h.territory_id, SUM(p.trx) AS trx FROM prescriptions p JOIN hcps h ON h.hcp_id = p.hcp_id GROUP BY h.territory_id ORDER BY 1',
    `SELECT h.territory_id, SUM(p.trx) FROM prescriptions p JOIN hcps h ON h.hcp_id = p.hcp_id WHERE h.territory_id IN ${T} GROUP BY h.territory_id ORDER BY 1`,
  ],
  [
    'joins prescriptions to products and territories',
    'SELECT t.region, pr.product_name, SUM(p.trx) FROM prescriptions p JOIN products pr ON pr.product_id = p.product_id JOIN hcps h ON h.hcp_id = p.hcp_id JOIN territories t ON t.territory_id = h.territory_id GROUP BY t.region, pr.product_name ORDER BY 1, 2',
    `SELECT t.region, pr.product_name, SUM(p.trx) FROM prescriptions p JOIN products pr ON pr.product_id = p.product_id JOIN hcps h ON h.hcp_id = p.hcp_id JOIN territories t ON t.territory_id = h.territory_id WHERE t.territory_id IN ${T} GROUP BY t.region, pr.product_name ORDER BY 1, 2`,
  ],
  [
    'cannot OR its way out of the scope',
    "SELECT COUNT(*) FROM hcps WHERE 1 = 1 OR territory_id = 'ACM-T03'",
    `SELECT COUNT(*) FROM hcps WHERE territory_id IN ${T}`,
  ],
  ['cannot name another territory', "SELECT COUNT(*) FROM hcps WHERE territory_id = 'ACM-T03'", 'SELECT 0'],
  [
    'IN subquery',
    "SELECT COUNT(*) FROM prescriptions WHERE hcp_id IN (SELECT hcp_id FROM hcps WHERE segment IN ('A', 'B'))",
    `SELECT COUNT(*) FROM ${RX_IN} x WHERE x.hcp_id IN (SELECT hcp_id FROM hcps WHERE segment IN ('A', 'B'))`,
  ],
  [
    'scalar subqueries in the select list',
    'SELECT (SELECT COUNT(*) FROM calls) AS c, (SELECT COUNT(*) FROM territories) AS t, (SELECT MAX(trx) FROM prescriptions) AS m',
    `SELECT (SELECT COUNT(*) FROM ${CALLS_IN} x), (SELECT COUNT(*) FROM territories WHERE territory_id IN ${T}), (SELECT MAX(trx) FROM ${RX_IN} y)`,
  ],
  [
    'correlated EXISTS',
    'SELECT t.territory_id FROM territories t WHERE EXISTS (SELECT 1 FROM hcps h WHERE h.territory_id = t.territory_id) ORDER BY 1',
    `SELECT territory_id FROM territories WHERE territory_id IN ${T} ORDER BY 1`,
  ],
  [
    'NOT EXISTS cannot reveal hidden territories',
    'SELECT COUNT(*) FROM territories t WHERE NOT EXISTS (SELECT 1 FROM reps r WHERE r.territory_id = t.territory_id)',
    'SELECT 0',
  ],
  [
    'CTE',
    'WITH t AS (SELECT territory_id, COUNT(*) AS n FROM hcps GROUP BY territory_id) SELECT territory_id, n FROM t ORDER BY 1',
    `SELECT territory_id, COUNT(*) FROM hcps WHERE territory_id IN ${T} GROUP BY territory_id ORDER BY 1`,
  ],
  [
    'two CTEs, the second reading the first',
    'WITH h AS (SELECT hcp_id FROM hcps), rx AS (SELECT p.trx FROM prescriptions p JOIN h ON h.hcp_id = p.hcp_id) SELECT SUM(trx) FROM rx',
    `SELECT SUM(trx) FROM ${RX_IN} x`,
  ],
  [
    'UNION of two tables',
    'SELECT territory_id FROM hcps UNION SELECT territory_id FROM reps UNION SELECT territory_id FROM territories ORDER BY 1',
    `SELECT territory_id FROM territories WHERE territory_id IN ${T} ORDER BY 1`,
  ],
  [
    'UNION ALL counts',
    "SELECT 'calls', COUNT(*) FROM calls UNION ALL SELECT 'rx', COUNT(*) FROM prescriptions",
    `SELECT 'calls', COUNT(*) FROM ${CALLS_IN} x UNION ALL SELECT 'rx', COUNT(*) FROM ${RX_IN} y`,
  ],
  [
    'derived table',
    'SELECT COUNT(*) FROM (SELECT * FROM hcps) x',
    `SELECT COUNT(*) FROM hcps WHERE territory_id IN ${T}`,
  ],
  [
    'table name in other case and quoted',
    'SELECT COUNT(*) FROM `HCPS` AS "H"',
    `SELECT COUNT(*) FROM hcps WHERE territory_id IN ${T}`,
  ],
  [
    'LEFT JOIN from an unrestricted table',
    'SELECT pr.product_name, COUNT(p.rx_id) FROM products pr LEFT JOIN prescriptions p ON p.product_id = pr.product_id GROUP BY pr.product_name ORDER BY 1',
    `SELECT pr.product_name, COUNT(p.rx_id) FROM products pr LEFT JOIN ${RX_IN} p ON p.product_id = pr.product_id GROUP BY pr.product_name ORDER BY 1`,
  ],
  [
    'self join',
    'SELECT COUNT(*) FROM hcps a JOIN hcps b ON a.territory_id = b.territory_id',
    `SELECT COUNT(*) FROM hcps a JOIN hcps b ON a.territory_id = b.territory_id WHERE a.territory_id IN ${T}`,
  ],
]

const scoped = testPrincipal(['analyst'], { territories: ['ACM-T01', 'ACM-T02'] })
const noAttribute = testPrincipal(['viewer'])

function normalise(rows: unknown[][]): unknown[][] {
  return rows.map((r) =>
    r.map((v) =>
      typeof v === 'bigint' ? Number(v) : typeof v === 'string' && /^\d+(\.\d+)?$/.test(v) ? Number(v) : v,
    ),
  )
}

for (const [dialectName, open] of [
  ['SQLite', openSqliteSource],
  ['MariaDB', openMariaDbSource],
  ['PostgreSQL', openPostgresSource],
] as const) {
  describe(`row policy in guarded SQL on ${dialectName}`, () => {
    let source: PharmaSource
    beforeAll(async () => {
      source = await open()
    })
    afterAll(async () => {
      await source?.close()
    })

    it.each(CASES)(
      'a territory-scoped principal %s: only its territories',
      async (_name, guarded, direct) => {
        const got = await runGuarded(source, guarded, scoped)
        const want = await runDirect(source, direct)
        expect(normalise(got.rows)).toEqual(normalise(want))
      },
    )

    it('the scoped answers differ from the unscoped ones (the fixture has other territories)', async () => {
      const all = await runDirect(source, 'SELECT COUNT(*) FROM hcps')
      const mine = await runGuarded(source, 'SELECT COUNT(*) FROM hcps', scoped)
      expect(Number(mine.rows[0]?.[0])).toBeGreaterThan(0)
      expect(Number(mine.rows[0]?.[0])).toBeLessThan(Number(all[0]?.[0]))
    })

    it('a principal whom the rule binds but who lacks the attribute sees nothing', async () => {
      for (const sql of [
        'SELECT COUNT(*) FROM hcps',
        'SELECT COUNT(*) FROM territories',
        'SELECT COUNT(*) FROM prescriptions',
        'SELECT COUNT(*) FROM calls',
        'SELECT COUNT(*) FROM reps',
        'SELECT COUNT(*) FROM (SELECT territory_id FROM hcps UNION SELECT territory_id FROM reps) x',
      ]) {
        const r = await runGuarded(source, sql, noAttribute)
        expect(r.rows, sql).toEqual([[0]])
      }
      const products = await runGuarded(source, 'SELECT COUNT(*) FROM products', noAttribute)
      expect(products.rows).toEqual([[3]])
    })

    it('under the bundled overrides an analyst without the attribute (HQ) sees the tenant, one with an empty list nothing', async () => {
      const hq = await runGuarded(source, 'SELECT COUNT(*) FROM calls', testPrincipal(['analyst']))
      expect(hq.rows).toEqual(await runDirect(source, 'SELECT COUNT(*) FROM calls'))
      const emptied = await runGuarded(
        source,
        'SELECT COUNT(*) FROM calls',
        testPrincipal(['analyst'], { territories: [] }),
      )
      expect(emptied.rows).toEqual([[0]])
    })

    it('admin sees every row', async () => {
      const r = await runGuarded(source, 'SELECT COUNT(*) FROM hcps', testPrincipal(['admin']))
      expect(r.rows).toEqual(await runDirect(source, 'SELECT COUNT(*) FROM hcps'))
    })
  })
}
