import { openDataSource } from '../packages/core/src/db/index.ts'

/**
 * A small retail database of a shape the engine has never been tuned on (customers, categories,
 * products, orders, order items), with deterministic pseudo-random data. Used with no overrides file
 * to check that the inferred model answers questions on a schema it was not written for.
 */
export const RETAIL_DDL = `
CREATE TABLE customers (customer_id INTEGER PRIMARY KEY, first_name VARCHAR(40), last_name VARCHAR(40),
  email VARCHAR(80), city VARCHAR(40), country CHAR(2), signup_date DATE, is_vip BOOLEAN);
CREATE TABLE categories (category_id INTEGER PRIMARY KEY, category_name VARCHAR(40) UNIQUE);
CREATE TABLE products (product_id INTEGER PRIMARY KEY, name VARCHAR(60) UNIQUE,
  category_id INTEGER REFERENCES categories(category_id), unit_price DECIMAL(10,2));
CREATE TABLE orders (order_id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers(customer_id),
  order_date DATE, status VARCHAR(16), shipping_cost DECIMAL(8,2));
CREATE TABLE order_items (order_item_id INTEGER PRIMARY KEY, order_id INTEGER REFERENCES orders(order_id),
  product_id INTEGER REFERENCES products(product_id), quantity INTEGER, discount DECIMAL(4,2));
`

function lcg(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    return s / 2 ** 32
  }
}

export async function buildRetailDb(path: string): Promise<void> {
  const rnd = lcg(42)
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T
  const ds = openDataSource(`sqlite:${path}`)
  const { knex } = ds
  try {
    for (const stmt of RETAIL_DDL.split(';').filter((x) => x.trim())) await knex.raw(stmt)
    const cities: [string, string][] = [
      ['Berlin', 'DE'],
      ['Munich', 'DE'],
      ['Paris', 'FR'],
      ['Lyon', 'FR'],
      ['Madrid', 'ES'],
      ['London', 'GB'],
      ['Austin', 'US'],
      ['Denver', 'US'],
    ]
    const firsts = ['Anna', 'Ben', 'Chloe', 'David', 'Elena', 'Felix', 'Greta', 'Hugo']
    const lasts = ['Meyer', 'Dubois', 'Garcia', 'Smith', 'Rossi', 'Novak']
    const customers = []
    for (let i = 1; i <= 150; i++) {
      const [city, country] = pick(cities)
      const first = pick(firsts)
      const last = pick(lasts)
      const month = String(1 + Math.floor(rnd() * 12)).padStart(2, '0')
      const day = String(1 + Math.floor(rnd() * 28)).padStart(2, '0')
      customers.push({
        customer_id: i,
        first_name: first,
        last_name: last,
        email: `${first}.${last}${i}@example.com`.toLowerCase(),
        city,
        country,
        signup_date: `2022-${month}-${day}`,
        is_vip: rnd() < 0.15 ? 1 : 0,
      })
    }
    await knex.batchInsert('customers', customers, 200)
    const cats = ['Garden', 'Kitchen', 'Toys', 'Electronics']
    await knex('categories').insert(cats.map((c, i) => ({ category_id: i + 1, category_name: c })))
    const names = [
      'Widget',
      'Gadget Pro',
      'Garden Hose',
      'Chef Knife',
      'Toy Robot',
      'Smart Lamp',
      'Blender',
      'Rake',
      'Puzzle Box',
      'Headphones',
      'Kettle',
      'Drone',
    ]
    await knex('products').insert(
      names.map((n, i) => ({
        product_id: i + 1,
        name: n,
        category_id: 1 + (i % cats.length),
        unit_price: Math.round((5 + rnd() * 120) * 100) / 100,
      })),
    )
    const statuses = ['shipped', 'shipped', 'shipped', 'delivered', 'cancelled', 'pending']
    const orders = []
    const items = []
    for (let o = 1; o <= 1200; o++) {
      const d = new Date(Date.UTC(2023, 0, 1) + Math.floor(rnd() * 730) * 86_400_000)
        .toISOString()
        .slice(0, 10)
      orders.push({
        order_id: o,
        customer_id: 1 + Math.floor(rnd() * 150),
        order_date: d,
        status: pick(statuses),
        shipping_cost: Math.round(rnd() * 2000) / 100,
      })
      const n = 1 + Math.floor(rnd() * 3)
      for (let k = 0; k < n; k++)
        items.push({
          order_item_id: items.length + 1,
          order_id: o,
          product_id: 1 + Math.floor(rnd() * names.length),
          quantity: 1 + Math.floor(rnd() * 5),
          discount: pick([0, 0, 0.1, 0.2]),
        })
    }
    await knex.batchInsert('orders', orders, 150)
    await knex.batchInsert('order_items', items, 150)
  } finally {
    await knex.destroy()
  }
}
