import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type DataSource, introspect } from '../packages/core/src/db/index.ts'
import {
  buildValueIndex,
  createEngine,
  type Engine,
  inferModel,
  loadOverrides,
} from '../packages/core/src/engine/index.ts'
import { localPrincipal } from '../packages/core/src/principal.ts'
import { type GoldCase, goldCaseTests, type RefusalCase } from './engine-compare.ts'
import { openReferenceEngine } from './helpers/reference.ts'

/**
 * The analyst plan shapes (issue 10) on SQLite against hand-written SQL on the reference pharma
 * data; test/engine-mariadb.test.ts asks the same questions on MariaDB and compares the answers.
 */
const AS_OF = '2025-01-15'
const RX_PR = 'FROM prescriptions p JOIN products pr ON pr.product_id = p.product_id'
const RX_H = 'FROM prescriptions p JOIN hcps h ON h.hcp_id = p.hcp_id'
const Q4 = "BETWEEN '2024-10-01' AND '2024-12-31'"
const Y24 = "BETWEEN '2024-01-01' AND '2024-12-31'"

const SHAPE_CASES: GoldCase[] = [
  // averages of per-entity / per-period totals
  {
    q: 'Average Tirosint TRx per HCP in 2024',
    gold: `SELECT AVG(v) FROM (SELECT p.hcp_id, SUM(p.trx) v ${RX_PR} WHERE pr.product_name = 'Tirosint'
           AND p.week_ending ${Y24} GROUP BY p.hcp_id)`,
  },
  {
    q: 'Average weekly Synthroid NRx in Q4 2024',
    gold: `SELECT AVG(v) FROM (SELECT p.week_ending, SUM(p.nrx) v ${RX_PR} WHERE pr.product_name = 'Synthroid'
           AND p.week_ending ${Q4} GROUP BY p.week_ending)`,
  },
  {
    q: 'average NRx per week for Levoxyl in 2024',
    gold: `SELECT AVG(v) FROM (SELECT p.week_ending, SUM(p.nrx) v ${RX_PR} WHERE pr.product_name = 'Levoxyl'
           AND p.week_ending ${Y24} GROUP BY p.week_ending)`,
  },
  {
    q: 'Average TRx per prescriber by region in 2024',
    gold: `SELECT region, AVG(v) FROM (SELECT t.region, p.hcp_id, SUM(p.trx) v ${RX_H}
           JOIN territories t ON t.territory_id = h.territory_id WHERE p.week_ending ${Y24}
           GROUP BY t.region, p.hcp_id) GROUP BY region`,
  },
  // per-group top / bottom N
  {
    q: 'Top 3 prescribers per territory',
    gold: `SELECT territory_id, hcp_id, v FROM (SELECT h.territory_id, h.hcp_id, SUM(p.trx) v,
           ROW_NUMBER() OVER (PARTITION BY h.territory_id ORDER BY SUM(p.trx) DESC, h.hcp_id) rn ${RX_H}
           GROUP BY h.territory_id, h.hcp_id) WHERE rn <= 3`,
  },
  {
    q: 'Top 2 HCPs by Tirosint TRx in each territory for Q4 2024',
    gold: `SELECT territory_id, hcp_id, v FROM (SELECT h.territory_id, h.hcp_id, SUM(p.trx) v,
           ROW_NUMBER() OVER (PARTITION BY h.territory_id ORDER BY SUM(p.trx) DESC, h.hcp_id) rn ${RX_H}
           JOIN products pr ON pr.product_id = p.product_id WHERE pr.product_name = 'Tirosint'
           AND p.week_ending ${Q4} GROUP BY h.territory_id, h.hcp_id) WHERE rn <= 2`,
  },
  {
    q: 'Top 3 products in each region',
    gold: `SELECT region, product_name, v FROM (SELECT t.region, pr.product_name, SUM(p.trx) v,
           ROW_NUMBER() OVER (PARTITION BY t.region ORDER BY SUM(p.trx) DESC) rn ${RX_H}
           JOIN territories t ON t.territory_id = h.territory_id JOIN products pr ON pr.product_id = p.product_id
           GROUP BY t.region, pr.product_name) WHERE rn <= 3`,
  },
  {
    q: 'Bottom 2 products by NRx per quarter in 2024',
    gold: `SELECT q, product_name, v FROM (SELECT strftime('%Y', p.week_ending) || '-' ||
           printf('%02d', (CAST(strftime('%m', p.week_ending) AS INTEGER) - 1) / 3 * 3 + 1) || '-01' q,
           pr.product_name, SUM(p.nrx) v, ROW_NUMBER() OVER (PARTITION BY strftime('%Y', p.week_ending) ||
           ((CAST(strftime('%m', p.week_ending) AS INTEGER) - 1) / 3) ORDER BY SUM(p.nrx)) rn ${RX_PR}
           WHERE p.week_ending ${Y24} GROUP BY q, pr.product_name) WHERE rn <= 2`,
  },
  // argmax / argmin: the winner with its measure
  {
    q: 'Which specialty writes the most Tirosint?',
    gold: `SELECT h.specialty, SUM(p.trx) v ${RX_H} JOIN products pr ON pr.product_id = p.product_id
           WHERE pr.product_name = 'Tirosint' GROUP BY h.specialty ORDER BY v DESC LIMIT 1`,
  },
  {
    q: 'which region prescribed the least Cytomel in 2024',
    gold: `SELECT t.region, SUM(p.trx) v ${RX_H} JOIN territories t ON t.territory_id = h.territory_id
           JOIN products pr ON pr.product_id = p.product_id WHERE pr.product_name = 'Cytomel'
           AND p.week_ending ${Y24} GROUP BY t.region ORDER BY v LIMIT 1`,
  },
  {
    q: 'Which HCP wrote the most Synthroid in each territory in 2024?',
    gold: `SELECT territory_id, hcp_id, v FROM (SELECT h.territory_id, h.hcp_id, SUM(p.trx) v,
           ROW_NUMBER() OVER (PARTITION BY h.territory_id ORDER BY SUM(p.trx) DESC, h.hcp_id) rn ${RX_H}
           JOIN products pr ON pr.product_id = p.product_id WHERE pr.product_name = 'Synthroid'
           AND p.week_ending ${Y24} GROUP BY h.territory_id, h.hcp_id) WHERE rn <= 1`,
  },
  {
    q: 'reps who called on the most endocrinologists',
    gold: `SELECT c.rep_id, COUNT(DISTINCT c.hcp_id) v FROM calls c JOIN hcps h ON h.hcp_id = c.hcp_id
           WHERE h.specialty = 'Endocrinology' GROUP BY c.rep_id ORDER BY v DESC LIMIT 1`,
  },
  {
    q: '5 best territories for Tirosint',
    gold: `SELECT h.territory_id, SUM(p.trx) v ${RX_H} JOIN products pr ON pr.product_id = p.product_id
           WHERE pr.product_name = 'Tirosint' GROUP BY h.territory_id ORDER BY v DESC LIMIT 5`,
    ordered: true,
  },
  {
    q: '2024 calls by channel in the Northeast',
    gold: `SELECT c.channel, COUNT(*) FROM calls c JOIN hcps h ON h.hcp_id = c.hcp_id JOIN territories t
           ON t.territory_id = h.territory_id WHERE t.region = 'Northeast' AND c.call_date ${Y24} GROUP BY c.channel`,
  },
  // a flag's two sides as two groups
  {
    q: 'NRx in 2024 for our products vs competitors',
    gold: `SELECT pr.is_company_product, SUM(p.nrx) ${RX_PR} WHERE p.week_ending ${Y24} GROUP BY pr.is_company_product`,
  },
  {
    q: 'competitors vs our brands TRx in Q4 2024',
    gold: `SELECT pr.is_company_product, SUM(p.trx) ${RX_PR} WHERE p.week_ending ${Q4} GROUP BY pr.is_company_product`,
  },
  {
    q: 'TRx by company product in 2024',
    gold: `SELECT pr.is_company_product, SUM(p.trx) ${RX_PR} WHERE p.week_ending ${Y24} GROUP BY pr.is_company_product`,
  },
  // period over period
  {
    q: 'Levoxyl TRx growth Q4 2024 vs Q3 2024',
    gold: `SELECT SUM(CASE WHEN p.week_ending ${Q4} THEN p.trx ELSE 0 END)
           - SUM(CASE WHEN p.week_ending BETWEEN '2024-07-01' AND '2024-09-30' THEN p.trx ELSE 0 END)
           ${RX_PR} WHERE pr.product_name = 'Levoxyl'`,
  },
  {
    q: '5 fastest-growing territories Q4 2024 vs Q3 2024',
    gold: `SELECT h.territory_id, SUM(CASE WHEN p.week_ending ${Q4} THEN p.trx ELSE 0 END)
           - SUM(CASE WHEN p.week_ending BETWEEN '2024-07-01' AND '2024-09-30' THEN p.trx ELSE 0 END) d
           ${RX_H} GROUP BY h.territory_id ORDER BY d DESC LIMIT 5`,
    ordered: true,
  },
  {
    q: 'NRx percent change 2024 vs 2023 by product',
    gold: `SELECT pr.product_name, 100.0 * (SUM(CASE WHEN p.week_ending ${Y24} THEN p.nrx ELSE 0 END)
           - SUM(CASE WHEN p.week_ending BETWEEN '2023-01-01' AND '2023-12-31' THEN p.nrx ELSE 0 END))
           / SUM(CASE WHEN p.week_ending BETWEEN '2023-01-01' AND '2023-12-31' THEN p.nrx ELSE 0 END)
           ${RX_PR} GROUP BY pr.product_name`,
  },
  {
    // ranked by the percent change, not by the total
    q: 'territories with the highest percent growth in TRx Q4 2024 vs Q3 2024',
    gold: `SELECT h.territory_id, 100.0 * (SUM(CASE WHEN p.week_ending ${Q4} THEN p.trx ELSE 0 END)
           - SUM(CASE WHEN p.week_ending BETWEEN '2024-07-01' AND '2024-09-30' THEN p.trx ELSE 0 END))
           / SUM(CASE WHEN p.week_ending BETWEEN '2024-07-01' AND '2024-09-30' THEN p.trx ELSE 0 END) d
           ${RX_H} GROUP BY h.territory_id ORDER BY d DESC LIMIT 1`,
  },
  {
    // sparse: an HCP with no rows in one month compares with 0, not with an older month or dropped
    q: 'Tirosint TRx change by HCP December 2024 vs November 2024',
    gold: `SELECT p.hcp_id, SUM(CASE WHEN p.week_ending BETWEEN '2024-12-01' AND '2024-12-31' THEN p.trx ELSE 0 END)
           - SUM(CASE WHEN p.week_ending BETWEEN '2024-11-01' AND '2024-11-30' THEN p.trx ELSE 0 END)
           ${RX_PR} WHERE pr.product_name = 'Tirosint' AND p.week_ending BETWEEN '2024-11-01' AND '2024-12-31'
           GROUP BY p.hcp_id`,
  },
  // shares: the denominator is everything else the question keeps
  {
    q: 'Synthroid market share of hypothyroidism NRx in Q4 2024',
    gold: `SELECT 1.0 * SUM(CASE WHEN pr.product_name = 'Synthroid' THEN p.nrx ELSE 0 END) / SUM(p.nrx) ${RX_PR}
           WHERE pr.therapeutic_area = 'Hypothyroidism' AND p.week_ending ${Q4}`,
  },
  {
    q: 'percent of TRx from Medicare',
    gold: "SELECT 1.0 * SUM(CASE WHEN payer_type = 'Medicare' THEN trx ELSE 0 END) / SUM(trx) FROM prescriptions",
  },
  {
    q: 'what share of NRx came from Medicare in 2024',
    gold: `SELECT 1.0 * SUM(CASE WHEN payer_type = 'Medicare' THEN nrx ELSE 0 END) / SUM(nrx) FROM prescriptions
           WHERE week_ending ${Y24}`,
  },
  {
    q: 'share of TRx by product in 2024',
    gold: `SELECT pr.product_name, 1.0 * SUM(p.trx) / (SELECT SUM(trx) FROM prescriptions WHERE week_ending ${Y24})
           ${RX_PR} WHERE p.week_ending ${Y24} GROUP BY pr.product_name`,
  },
  {
    q: 'Tirosint market share of hypothyroidism TRx by region in 2024',
    gold: `SELECT t.region, 1.0 * SUM(CASE WHEN pr.product_name = 'Tirosint' THEN p.trx ELSE 0 END) / SUM(p.trx)
           ${RX_H} JOIN territories t ON t.territory_id = h.territory_id JOIN products pr ON pr.product_id = p.product_id
           WHERE pr.therapeutic_area = 'Hypothyroidism' AND p.week_ending ${Y24} GROUP BY t.region`,
  },
  // market share: the model's market (products.therapeutic_area) is the denominator
  {
    q: 'market share of Tirosint in 2024',
    gold: `SELECT 1.0 * SUM(CASE WHEN pr.product_name = 'Tirosint' THEN p.trx ELSE 0 END) / SUM(p.trx) ${RX_PR}
           WHERE pr.therapeutic_area = (SELECT therapeutic_area FROM products WHERE product_name = 'Tirosint')
           AND p.week_ending ${Y24}`,
  },
  {
    q: 'Tirosint market share of TRx by region in 2024',
    gold: `SELECT t.region, 1.0 * SUM(CASE WHEN pr.product_name = 'Tirosint' THEN p.trx ELSE 0 END) / SUM(p.trx)
           ${RX_H} JOIN territories t ON t.territory_id = h.territory_id JOIN products pr ON pr.product_id = p.product_id
           WHERE pr.therapeutic_area = 'Hypothyroidism' AND p.week_ending ${Y24} GROUP BY t.region`,
  },
  {
    q: 'market share by product in 2024',
    gold: `SELECT pr.product_name, 1.0 * SUM(p.trx) / (SELECT SUM(p2.trx) FROM prescriptions p2 JOIN products q
           ON q.product_id = p2.product_id WHERE q.therapeutic_area = pr.therapeutic_area AND p2.week_ending ${Y24})
           ${RX_PR} WHERE p.week_ending ${Y24} GROUP BY pr.product_name`,
  },
  {
    q: 'NRx market share by product by quarter in 2024',
    gold: `SELECT x.q, x.product_name, 1.0 * x.v / SUM(x.v) OVER (PARTITION BY x.q, x.ta) FROM (SELECT
           strftime('%Y', p.week_ending) || '-' || printf('%02d', (CAST(strftime('%m', p.week_ending) AS INTEGER) - 1)
           / 3 * 3 + 1) || '-01' q, pr.product_name, pr.therapeutic_area ta, SUM(p.nrx) v ${RX_PR}
           WHERE p.week_ending ${Y24} GROUP BY q, pr.product_name, pr.therapeutic_area) x`,
  },
  // semi-join counts: the subject counted by how many related rows it has
  {
    q: 'how many HCPs had at least 3 calls',
    gold: 'SELECT COUNT(*) FROM (SELECT hcp_id FROM calls GROUP BY hcp_id HAVING COUNT(*) >= 3)',
  },
  {
    q: 'how many HCPs had fewer than 2 calls in Q4 2024',
    gold: `SELECT COUNT(*) FROM hcps h WHERE (SELECT COUNT(*) FROM calls c WHERE c.hcp_id = h.hcp_id
           AND c.call_date ${Q4}) < 2`,
  },
  {
    q: 'how many endocrinologists had more than 20 calls in 2024',
    gold: `SELECT COUNT(*) FROM hcps h WHERE h.specialty = 'Endocrinology' AND (SELECT COUNT(*) FROM calls c
           WHERE c.hcp_id = h.hcp_id AND c.call_date ${Y24}) > 20`,
  },
  {
    q: 'number of HCPs with no calls in Q4 2024',
    gold: `SELECT COUNT(*) FROM hcps h WHERE h.hcp_id NOT IN (SELECT hcp_id FROM calls WHERE call_date ${Q4})`,
  },
  {
    q: 'HCPs with no calls in Q4 2024',
    gold: `SELECT h.hcp_id FROM hcps h WHERE h.hcp_id NOT IN (SELECT hcp_id FROM calls WHERE call_date ${Q4})`,
  },
  // bridge: reps reach prescriptions only through their territory (territories ← reps)
  {
    q: 'NRx by rep',
    gold: `SELECT r.rep_id, SUM(p.nrx) ${RX_H} JOIN reps r ON r.territory_id = h.territory_id GROUP BY r.rep_id`,
  },
  {
    q: 'TRx by rep for Tirosint in Q4 2024',
    gold: `SELECT r.rep_id, SUM(p.trx) ${RX_H} JOIN reps r ON r.territory_id = h.territory_id
           JOIN products pr ON pr.product_id = p.product_id WHERE pr.product_name = 'Tirosint'
           AND p.week_ending ${Q4} GROUP BY r.rep_id`,
  },
  {
    q: 'Top 5 reps by TRx in 2024',
    gold: `SELECT r.rep_id, SUM(p.trx) v ${RX_H} JOIN reps r ON r.territory_id = h.territory_id
           WHERE p.week_ending ${Y24} GROUP BY r.rep_id ORDER BY v DESC LIMIT 5`,
  },
  {
    // a context filter ("in the Northeast") narrows the whole too; only the part is the numerator
    q: 'What percentage of TRx in the Northeast came from Medicare in 2024?',
    gold: `SELECT 1.0 * SUM(CASE WHEN p.payer_type = 'Medicare' THEN p.trx ELSE 0 END) / SUM(p.trx) ${RX_H}
           JOIN territories t ON t.territory_id = h.territory_id WHERE t.region = 'Northeast'
           AND p.week_ending ${Y24}`,
  },
  {
    // no part word and nothing grouped: the value named is the part, of the whole (issue 10)
    q: 'percent of TRx in the Northeast',
    gold: `SELECT 1.0 * SUM(CASE WHEN t.region = 'Northeast' THEN p.trx ELSE 0 END) / SUM(p.trx) ${RX_H}
           JOIN territories t ON t.territory_id = h.territory_id`,
  },
  {
    q: 'share of NRx for Tirosint in 2024',
    gold: `SELECT 1.0 * SUM(CASE WHEN pr.product_name = 'Tirosint' THEN p.nrx ELSE 0 END) / SUM(p.nrx) ${RX_PR}
           WHERE p.week_ending ${Y24}`,
  },
  {
    // held-out h14 (held out as a refusal there; answered now, so its answer is checked here)
    q: 'What percentage of TRx came from Medicare in 2024?',
    gold: `SELECT 1.0 * SUM(CASE WHEN payer_type = 'Medicare' THEN trx ELSE 0 END) / SUM(trx) FROM prescriptions
           WHERE week_ending ${Y24}`,
  },
  // anti-joins: rows of the subject with no rows of another fact
  {
    q: 'Number of HCPs who wrote Synthroid in Q4 2024 but had no completed calls that quarter',
    gold: `SELECT COUNT(DISTINCT p.hcp_id) ${RX_PR} WHERE pr.product_name = 'Synthroid' AND p.week_ending ${Q4}
           AND NOT EXISTS (SELECT 1 FROM calls c WHERE c.hcp_id = p.hcp_id AND c.status = 'Completed'
           AND c.call_date ${Q4})`,
  },
  {
    q: 'Endocrinologists who wrote Tirosint in Q4 2024 but had no in-person calls that quarter',
    gold: `SELECT DISTINCT h.hcp_id ${RX_H} JOIN products pr ON pr.product_id = p.product_id
           WHERE h.specialty = 'Endocrinology' AND pr.product_name = 'Tirosint' AND p.week_ending ${Q4}
           AND NOT EXISTS (SELECT 1 FROM calls c WHERE c.hcp_id = h.hcp_id AND c.channel = 'In-person'
           AND c.call_date ${Q4})`,
  },
  // period-over-period series over a dense calendar (every quarter/month/year is present overall;
  // per HCP most months are missing, so each HCP × month of 2024 is listed with 0 where it had none)
  {
    q: 'Quarter over quarter change in TRx',
    gold: `SELECT q, v, v - LAG(v) OVER (ORDER BY q) FROM (SELECT substr(week_ending, 1, 4) || '-' ||
           printf('%02d', ((CAST(substr(week_ending, 6, 2) AS INTEGER) - 1) / 3) * 3 + 1) || '-01' q, SUM(trx) v
           FROM prescriptions GROUP BY q)`,
  },
  {
    q: 'Show year over year TRx growth for Tirosint',
    gold: `SELECT y, v, v - LAG(v) OVER (ORDER BY y) FROM (SELECT substr(p.week_ending, 1, 4) || '-01-01' y,
           SUM(p.trx) v ${RX_PR} WHERE pr.product_name = 'Tirosint' GROUP BY y)`,
  },
  {
    q: 'Monthly change in Tirosint TRx by HCP in H2 2024',
    gold: `WITH v AS (SELECT p.hcp_id, strftime('%Y-%m-01', p.week_ending) mo, SUM(p.trx) s ${RX_PR}
             WHERE pr.product_name = 'Tirosint' AND p.week_ending BETWEEN '2024-07-01' AND '2024-12-31' GROUP BY 1, 2),
           m(mo, prev) AS (SELECT '2024-07-01', NULL UNION ALL SELECT date(mo, '+1 month'), mo FROM m
             WHERE mo < '2024-12-01')
           SELECT h.hcp_id, m.mo, COALESCE(v.s, 0),
             CASE WHEN m.prev IS NULL THEN NULL ELSE COALESCE(v.s, 0) - COALESCE(pv.s, 0) END
           FROM (SELECT DISTINCT hcp_id FROM v) h CROSS JOIN m
           LEFT JOIN v ON v.hcp_id = h.hcp_id AND v.mo = m.mo
           LEFT JOIN v pv ON pv.hcp_id = h.hcp_id AND pv.mo = m.prev`,
  },
]

const SHAPE_REFUSALS: RefusalCase[] = [
  { q: 'Average TRx per region', code: 'AMBIGUOUS' },
  { q: 'TRx growth in 2024', code: 'AMBIGUOUS' },
  { q: 'market share by region in 2024', code: 'AMBIGUOUS' },
  // naming two products would make them the whole market: refused, not a share of the pair
  { q: 'market share of Tirosint vs Synthroid in 2024', code: 'AMBIGUOUS' },
  // a scope value right after "share of" and another value: either could be the part
  { q: 'share of Tirosint TRx in the Northeast', code: 'AMBIGUOUS' },
  // HCPs reach reps through their territory or through calls: refused, naming both
  { q: 'number of HCPs by rep', code: 'AMBIGUOUS' },
  // a condition on the counted calls is not carried into the correlated count yet: refused
  { q: 'how many HCPs had at least 3 in-person calls', code: 'AMBIGUOUS' },
  // a total over reps would count each territory's rows once per rep
  { q: 'share of TRx by rep', code: 'AMBIGUOUS' },
  // ranking a series per territory would rank territory-quarters: which quarter is not said
  { q: 'fastest growing territories quarter over quarter', code: 'AMBIGUOUS' },
  { q: 'Change the territory of rep ACM-R001', code: 'READ_ONLY' },
  { q: 'Synthroid TRx in Q4 2024 by mood of the prescriber', code: 'UNKNOWN_FIELD' },
]

describe('analyst plan shapes on SQLite', () => {
  let ds: DataSource
  let engine: Engine

  beforeAll(async () => {
    ;({ ds, engine } = await openReferenceEngine())
  })

  afterAll(async () => {
    await ds?.knex.destroy()
  })

  goldCaseTests(() => ({ engine, ds }), localPrincipal('acme'), AS_OF, SHAPE_CASES, SHAPE_REFUSALS)

  it('states the denominator of a share whose part is the only value named', async () => {
    const r = await engine.ask(localPrincipal('acme'), {
      question: 'percent of TRx in the Northeast',
      asOf: AS_OF,
    })
    expect(r.interpretation).toBe('Share of total TRx that is region Northeast, out of the total')
  })

  it('states that an average per HCP counts only the HCPs with matching rows, in label and interpretation', async () => {
    const r = await engine.ask(localPrincipal('acme'), {
      question: 'Average Tirosint TRx per HCP in 2024',
      asOf: AS_OF,
    })
    expect(r.columns[0]?.label).toBe('Average per HCP with matching rows of total TRx')
    expect(r.interpretation).toMatch(/counting only each HCP with matching rows \(not every HCP\)$/)
  })

  it('warns when the period asked lies wholly or partly outside the data, and not when it fits', async () => {
    const admin = localPrincipal('acme')
    const outside = await engine.ask(admin, { question: 'TRx in 2026', asOf: '2027-06-30' })
    expect(outside.warnings).toEqual([
      'week ending data runs 2023-01-07 … 2024-12-28; 2026-01-01 … 2026-12-31 has no rows.',
    ])
    const partly = await engine.ask(admin, { question: 'Calls in the last 3 years', asOf: AS_OF })
    expect(partly.warnings[0]).toMatch(
      /^call date data runs 2023-01-\d\d … 2024-12-\d\d; 2022-01-01 … 2024-12-31 is only partly covered\.$/,
    )
    const fits = await engine.ask(admin, { question: 'TRx in 2024', asOf: AS_OF })
    expect(fits.warnings).toEqual([])
  })

  it('refuses market share when the model defines no market, and names the market when it does', async () => {
    const overrides = await loadOverrides('pharma')
    const products = overrides.datasets.products
    if (products) delete products.market
    const model = inferModel(await introspect(ds), overrides)
    const bare = createEngine({ ds, model, valueIndex: await buildValueIndex(ds, model) })
    const admin = localPrincipal('acme')
    await expect(
      bare.ask(admin, { question: 'market share of Tirosint in 2024', asOf: AS_OF }),
    ).rejects.toMatchObject({ code: 'AMBIGUOUS' })
    const r = await engine.ask(admin, { question: 'market share of Tirosint in 2024', asOf: AS_OF })
    expect(r.interpretation).toContain('out of the total of its market (the same therapeutic area)')
  })

  it('names the candidate join paths when HCPs reach reps in several ways', async () => {
    const admin = localPrincipal('acme')
    await expect(engine.ask(admin, { question: 'number of HCPs by rep', asOf: AS_OF })).rejects.toMatchObject(
      {
        code: 'AMBIGUOUS',
        message: expect.stringContaining('hcps → territories ← reps; or through calls'),
      },
    )
    const r = await engine.ask(admin, { question: 'NRx by rep', asOf: AS_OF })
    expect(r.interpretation).toContain('each rep is credited with all prescription records of its territory')
  })

  it('applies the absent dataset’s row scope inside an anti-join subquery', async () => {
    const viewer = { ...localPrincipal('acme', ['viewer']), attributes: { territories: ['ACM-T01'] } }
    const q = 'Number of HCPs who wrote Synthroid in Q4 2024 but had no completed calls that quarter'
    const r = await engine.ask(viewer, { question: q, asOf: AS_OF })
    const gold = (await ds.knex.raw(
      `SELECT COUNT(DISTINCT p.hcp_id) n ${RX_H} JOIN products pr ON pr.product_id = p.product_id
       WHERE h.territory_id = 'ACM-T01' AND pr.product_name = 'Synthroid' AND p.week_ending ${Q4}
       AND NOT EXISTS (SELECT 1 FROM calls c WHERE c.hcp_id = p.hcp_id AND c.status = 'Completed'
       AND c.call_date ${Q4})`,
    )) as { n: number }[]
    expect(r.rows).toEqual([[gold[0]?.n]])
    // calls are scoped through their rep too: that predicate can only sit inside the subquery
    const sql = r.sql ?? ''
    const sub = sql.slice(sql.indexOf('not exists'))
    expect(sub).toMatch(/`calls`\.`rep_id` in \(select/)
  })
})
