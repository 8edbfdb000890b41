import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type DataSource, introspect, openDataSource } from '../packages/core/src/db/index.ts'
import { buildValueIndex, createEngine, type Engine, inferModel } from '../packages/core/src/engine/index.ts'
import { localPrincipal } from '../packages/core/src/principal.ts'
import { goldCaseTests } from './engine-compare.ts'
import { buildRetailDb } from './engine-retail-fixture.ts'

/**
 * A schema the engine was never tuned on, with no overrides file: every answer must equal the
 * hand-written SQL (compared like the evaluation does).
 */
const AS_OF = '2025-01-15'
const Y24 = "BETWEEN '2024-01-01' AND '2024-12-31'"

const cases: { q: string; gold: string; ordered?: boolean }[] = [
  { q: 'How many orders were placed in 2024?', gold: `SELECT COUNT(*) FROM orders WHERE order_date ${Y24}` },
  { q: 'Orders by status', gold: 'SELECT status, COUNT(*) FROM orders GROUP BY status' },
  {
    q: 'Total quantity by category in 2024',
    gold: `SELECT c.category_name, SUM(oi.quantity) FROM order_items oi JOIN orders o ON o.order_id = oi.order_id
           JOIN products p ON p.product_id = oi.product_id JOIN categories c ON c.category_id = p.category_id
           WHERE o.order_date ${Y24} GROUP BY c.category_name`,
  },
  {
    q: 'Top 5 customers by quantity',
    gold: `SELECT o.customer_id, SUM(oi.quantity) v FROM order_items oi JOIN orders o ON o.order_id = oi.order_id
           GROUP BY o.customer_id ORDER BY v DESC, o.customer_id LIMIT 5`,
  },
  {
    q: 'Average unit price per category',
    gold: `SELECT c.category_name, AVG(p.unit_price) FROM products p JOIN categories c ON c.category_id = p.category_id GROUP BY c.category_name`,
  },
  { q: 'How many customers are in Germany?', gold: "SELECT COUNT(*) FROM customers WHERE country = 'DE'" },
  {
    q: 'Monthly orders in 2024',
    gold: `SELECT strftime('%Y-%m-01', order_date) m, COUNT(*) FROM orders WHERE order_date ${Y24} GROUP BY m ORDER BY m`,
    ordered: true,
  },
  {
    q: 'Which products have a unit price above 50?',
    gold: 'SELECT name FROM products WHERE unit_price > 50',
  },
  {
    q: 'How many customers bought Widget in 2024?',
    gold: `SELECT COUNT(DISTINCT o.customer_id) FROM order_items oi JOIN orders o ON o.order_id = oi.order_id
           JOIN products p ON p.product_id = oi.product_id WHERE p.name = 'Widget' AND o.order_date ${Y24}`,
  },
  {
    q: 'Total shipping cost by country',
    gold: 'SELECT c.country, SUM(o.shipping_cost) FROM orders o JOIN customers c ON c.customer_id = o.customer_id GROUP BY c.country',
  },
  { q: 'List VIP customers', gold: 'SELECT customer_id FROM customers WHERE is_vip = 1' },
  {
    q: 'Number of orders per customer city in Q1 2024',
    gold: `SELECT c.city, COUNT(*) FROM orders o JOIN customers c ON c.customer_id = o.customer_id
           WHERE o.order_date BETWEEN '2024-01-01' AND '2024-03-31' GROUP BY c.city`,
  },
  {
    q: 'Which category had the highest total quantity last year?',
    gold: `SELECT c.category_name, SUM(oi.quantity) v FROM order_items oi JOIN orders o ON o.order_id = oi.order_id
           JOIN products p ON p.product_id = oi.product_id JOIN categories c ON c.category_id = p.category_id
           WHERE o.order_date ${Y24} GROUP BY c.category_name ORDER BY v DESC LIMIT 1`,
  },
  {
    q: 'cancelled orders in 2024',
    gold: `SELECT order_id FROM orders WHERE status = 'cancelled' AND order_date ${Y24}`,
  },
  {
    q: 'Quarterly shipping cost for Berlin customers in 2023',
    gold: `SELECT printf('%s-%02d-01', strftime('%Y', o.order_date), ((CAST(strftime('%m', o.order_date) AS INTEGER)-1)/3)*3+1) q,
           SUM(o.shipping_cost) FROM orders o JOIN customers c ON c.customer_id = o.customer_id
           WHERE c.city = 'Berlin' AND o.order_date BETWEEN '2023-01-01' AND '2023-12-31' GROUP BY q ORDER BY q`,
    ordered: true,
  },
  {
    q: 'Which customers placed more than 12 orders?',
    gold: 'SELECT customer_id, COUNT(*) FROM orders GROUP BY customer_id HAVING COUNT(*) > 12',
  },
  {
    q: 'quantity of Garden Hose vs Blender by year',
    gold: `SELECT p.name, strftime('%Y-01-01', o.order_date) y, SUM(oi.quantity) FROM order_items oi JOIN orders o ON o.order_id = oi.order_id
           JOIN products p ON p.product_id = oi.product_id WHERE p.name IN ('Garden Hose', 'Blender') GROUP BY p.name, y`,
  },
  {
    q: 'How many products are there in each category?',
    gold: 'SELECT c.category_name, COUNT(*) FROM products p JOIN categories c ON c.category_id = p.category_id GROUP BY c.category_name',
  },
  {
    q: 'average discount for orders shipped to France last year',
    gold: `SELECT AVG(oi.discount) FROM order_items oi JOIN orders o ON o.order_id = oi.order_id JOIN customers c ON c.customer_id = o.customer_id
           WHERE o.status = 'shipped' AND c.country = 'FR' AND o.order_date ${Y24}`,
  },
  {
    q: 'Customers who signed up before March 2022',
    gold: "SELECT customer_id FROM customers WHERE signup_date < '2022-03-01'",
  },
]

const refusals: { q: string; code: string }[] = [
  { q: 'Delete all orders', code: 'READ_ONLY' },
  { q: "What is the customers' password?", code: 'UNKNOWN_FIELD' },
  { q: 'Total revenue by category', code: 'UNANSWERABLE' },
  { q: 'What will the weather be in Berlin tomorrow?', code: 'UNANSWERABLE' },
  { q: 'Orders by status excluding', code: 'AMBIGUOUS' },
]

describe('engine on a retail schema with no overrides', () => {
  let dir: string
  let ds: DataSource
  let engine: Engine
  const principal = localPrincipal('retail')

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'nl2q-retail-'))
    const path = join(dir, 'retail.sqlite')
    await buildRetailDb(path)
    ds = openDataSource(`sqlite:${path}`, { readOnly: true })
    const model = inferModel(await introspect(ds))
    engine = createEngine({ ds, model, valueIndex: await buildValueIndex(ds, model) })
  })

  afterAll(async () => {
    await ds?.knex.destroy()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  it('infers datasets, joins, measures and labels from the schema alone', () => {
    const m = engine.model
    expect(m.datasets.map((d) => d.name).sort()).toEqual([
      'categories',
      'customers',
      'order_items',
      'orders',
      'products',
    ])
    expect(m.joins.map((j) => `${j.from.dataset}->${j.to.dataset}`).sort()).toEqual([
      'order_items->orders',
      'order_items->products',
      'orders->customers',
      'products->categories',
    ])
    const items = m.datasets.find((d) => d.name === 'order_items')
    expect(items?.fields.find((f) => f.name === 'quantity')).toMatchObject({
      kind: 'measure',
      aggregation: 'sum',
    })
    expect(items?.fields.find((f) => f.name === 'order_id')?.kind).toBe('key')
    expect(m.datasets.find((d) => d.name === 'customers')?.labelColumns).toEqual(['first_name', 'last_name'])
    expect(m.datasets.find((d) => d.name === 'orders')?.defaultTimeDimension).toBe('order_date')
  })

  it('pages a plan with stream() in a stable order that covers every row once', async () => {
    const { plan } = engine.plan('orders by customer city and status', { asOf: AS_OF })
    const whole = await engine.query(principal, plan)
    const pages: unknown[][] = []
    let count = 0
    for await (const page of engine.stream(principal, plan, { pageSize: 7 })) {
      count++
      pages.push(...page.rows)
    }
    expect(count).toBeGreaterThan(1)
    expect(pages.map((r) => JSON.stringify(r)).sort()).toEqual(
      whole.rows.map((r) => JSON.stringify(r)).sort(),
    )
  })

  it('runs guarded SQL through the same read-only executor', async () => {
    const r = await engine.sql(principal, {
      sql: 'SELECT status, COUNT(*) AS n FROM orders GROUP BY status ORDER BY status',
    })
    expect(r.columns.map((c) => c.name)).toEqual(['status', 'n'])
    expect(r.rows.length).toBe(4)
    await expect(engine.sql(principal, { sql: 'DELETE FROM orders' })).rejects.toMatchObject({
      code: 'SQL_REJECTED',
    })
  })

  it('caps rows at the asked limit and says the answer was cut', async () => {
    const r = await engine.ask(principal, { question: 'list the orders', limit: 25 })
    expect(r.rows).toHaveLength(25)
    expect(r.truncated).toBe(true)
  })

  goldCaseTests(() => ({ engine, ds }), principal, AS_OF, cases, refusals)
})
