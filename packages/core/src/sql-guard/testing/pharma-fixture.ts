import { createHash } from 'node:crypto'
import type { Knex } from 'knex'
import type { ColumnType, Dialect } from '../../db/index.ts'
import type { Dataset, Field, FieldKind, SemanticModel } from '../../engine/model-types.ts'
import type { Principal, Role } from '../../principal.ts'

/**
 * A small copy of the pharma schema (shape per test/fixtures/datasets/pharma.md) with a few
 * deterministic rows, and a hand-built semantic model of it, for policy / guard / executor tests.
 */

type Col = [name: string, type: ColumnType, kind: FieldKind, extra?: Partial<Field>]

const TABLES: { name: string; pk: string; columns: Col[] }[] = [
  {
    name: 'territories',
    pk: 'territory_id',
    columns: [
      ['territory_id', 'string', 'key'],
      ['territory_name', 'string', 'dimension'],
      ['region', 'string', 'dimension'],
      ['district', 'string', 'dimension'],
    ],
  },
  {
    name: 'reps',
    pk: 'rep_id',
    columns: [
      ['rep_id', 'string', 'key'],
      ['rep_name', 'string', 'dimension'],
      ['territory_id', 'string', 'key'],
      ['hire_date', 'date', 'time'],
      ['email', 'string', 'dimension', { roles: ['admin', 'analyst'] }],
    ],
  },
  {
    name: 'hcps',
    pk: 'hcp_id',
    columns: [
      ['hcp_id', 'string', 'key'],
      ['npi', 'string', 'dimension'],
      ['first_name', 'string', 'dimension'],
      ['last_name', 'string', 'dimension'],
      ['specialty', 'string', 'dimension'],
      ['city', 'string', 'dimension'],
      ['state', 'string', 'dimension'],
      ['territory_id', 'string', 'key'],
      ['segment', 'string', 'dimension'],
      ['crm_account_id', 'string', 'dimension', { hidden: true }],
    ],
  },
  {
    name: 'products',
    pk: 'product_id',
    columns: [
      ['product_id', 'string', 'key'],
      ['product_name', 'string', 'dimension'],
      ['manufacturer', 'string', 'dimension'],
      ['therapeutic_area', 'string', 'dimension'],
      ['is_company_product', 'boolean', 'dimension'],
      ['launch_date', 'date', 'time'],
      ['list_price', 'decimal', 'measure', { aggregation: 'avg' }],
    ],
  },
  {
    name: 'prescriptions',
    pk: 'rx_id',
    columns: [
      ['rx_id', 'integer', 'key'],
      ['hcp_id', 'string', 'key'],
      ['product_id', 'string', 'key'],
      ['week_ending', 'date', 'time'],
      ['payer_type', 'string', 'dimension'],
      ['trx', 'integer', 'measure', { aggregation: 'sum' }],
      ['nrx', 'integer', 'measure', { aggregation: 'sum' }],
      ['quantity', 'integer', 'measure', { aggregation: 'sum' }],
    ],
  },
  {
    name: 'calls',
    pk: 'call_id',
    columns: [
      ['call_id', 'string', 'key'],
      ['hcp_id', 'string', 'key'],
      ['rep_id', 'string', 'key'],
      ['product_id', 'string', 'key'],
      ['call_date', 'date', 'time'],
      ['channel', 'string', 'dimension'],
      ['status', 'string', 'dimension'],
      ['duration_minutes', 'integer', 'measure', { aggregation: 'sum' }],
    ],
  },
]

const FKS: [from: string, column: string, to: string, toColumn: string][] = [
  ['reps', 'territory_id', 'territories', 'territory_id'],
  ['hcps', 'territory_id', 'territories', 'territory_id'],
  ['prescriptions', 'hcp_id', 'hcps', 'hcp_id'],
  ['prescriptions', 'product_id', 'products', 'product_id'],
  ['calls', 'hcp_id', 'hcps', 'hcp_id'],
  ['calls', 'rep_id', 'reps', 'rep_id'],
  ['calls', 'product_id', 'products', 'product_id'],
]

export const PHARMA_TABLES = TABLES.map((t) => t.name)

/** The pharma model as inference + the demo overrides would produce it (territory row policy). */
export function pharmaModel(dialect: Dialect = 'sqlite'): SemanticModel {
  const datasets: Dataset[] = TABLES.map((t) => ({
    name: t.name,
    table: t.name,
    label: t.name,
    synonyms: [],
    primaryKey: [t.pk],
    labelColumns: [],
    fields: t.columns.map(([name, type, kind, extra]) => ({
      name,
      dataset: t.name,
      column: name,
      kind,
      type,
      label: name,
      synonyms: [],
      hidden: false,
      ...extra,
    })),
    hidden: false,
    // as in models/pharma.yaml: the product catalogue is shared reference data
    ...(t.name === 'products' ? { unrestricted: true } : {}),
  }))
  return {
    name: 'pharma',
    dialect,
    datasets,
    joins: FKS.map(([from, column, to, toColumn]) => ({
      from: { dataset: from, columns: [column] },
      to: { dataset: to, columns: [toColumn] },
    })),
    rowPolicies: [{ dataset: 'territories', column: 'territory_id', in: { attribute: 'territories' } }],
  }
}

export function testPrincipal(roles: Role[], attributes: Record<string, string[]> = {}): Principal {
  return {
    tenant: 'acme',
    subject: `test:${roles.join('+')}`,
    roles,
    attributes,
    credential: { kind: 'local', id: 'test', expiresAt: null, scopes: [] },
  }
}

/** Create the six tables (with foreign keys) and insert a few deterministic rows. */
export async function createPharmaSchema(knex: Knex): Promise<void> {
  await knex.schema.createTable('territories', (t) => {
    t.string('territory_id', 16).primary()
    t.string('territory_name', 64)
    t.string('region', 32)
    t.string('district', 64)
  })
  await knex.schema.createTable('reps', (t) => {
    t.string('rep_id', 16).primary()
    t.string('rep_name', 64)
    t.string('territory_id', 16).references('territory_id').inTable('territories')
    t.date('hire_date')
    t.string('email', 128)
  })
  await knex.schema.createTable('hcps', (t) => {
    t.string('hcp_id', 16).primary()
    t.specificType('npi', 'char(10)').unique()
    t.string('first_name', 48)
    t.string('last_name', 48)
    t.string('specialty', 48)
    t.string('city', 64)
    t.specificType('state', 'char(2)')
    t.string('territory_id', 16).references('territory_id').inTable('territories')
    t.specificType('segment', 'char(1)')
    t.specificType('crm_account_id', 'char(18)').unique()
  })
  await knex.schema.createTable('products', (t) => {
    t.string('product_id', 16).primary()
    t.string('product_name', 64).unique()
    t.string('manufacturer', 64)
    t.string('therapeutic_area', 48)
    t.boolean('is_company_product')
    t.date('launch_date')
    t.decimal('list_price', 10, 2)
  })
  await knex.schema.createTable('prescriptions', (t) => {
    t.bigInteger('rx_id').primary()
    t.string('hcp_id', 16).references('hcp_id').inTable('hcps')
    t.string('product_id', 16).references('product_id').inTable('products')
    t.date('week_ending')
    t.string('payer_type', 16)
    t.integer('trx')
    t.integer('nrx')
    t.integer('quantity')
  })
  await knex.schema.createTable('calls', (t) => {
    t.string('call_id', 18).primary()
    t.string('hcp_id', 16).references('hcp_id').inTable('hcps')
    t.string('rep_id', 16).references('rep_id').inTable('reps')
    t.string('product_id', 16).nullable().references('product_id').inTable('products')
    t.date('call_date')
    t.string('channel', 16)
    t.string('status', 16)
    t.integer('duration_minutes')
  })

  const pad = (n: number, w: number) => String(n).padStart(w, '0')
  const regions = ['Northeast', 'Southeast', 'Midwest', 'West']
  const territories = [1, 2, 3, 4].map((i) => ({
    territory_id: `ACM-T${pad(i, 2)}`,
    territory_name: `Metro ${i}`,
    region: regions[i - 1],
    district: `District ${i}`,
  }))
  const reps = territories.flatMap((t, i) =>
    [0, 1].map((j) => ({
      rep_id: `ACM-R${pad(i * 2 + j + 1, 3)}`,
      rep_name: `Rep ${i * 2 + j + 1}`,
      territory_id: t.territory_id,
      hire_date: `2020-0${j + 1}-1${i}`,
      email: `rep${i * 2 + j + 1}@acme.test`,
    })),
  )
  const specialties = ['Endocrinology', 'Internal Medicine', 'Family Medicine', 'Cardiology']
  const hcps = Array.from({ length: 20 }, (_, k) => ({
    hcp_id: `ACM-H${pad(k + 1, 5)}`,
    npi: `10000000${pad(k, 2)}`,
    first_name: `First${k}`,
    last_name: `Last${k}`,
    specialty: specialties[k % 4],
    city: `City${k % 5}`,
    state: 'MA',
    territory_id: territories[k % 4]?.territory_id,
    segment: 'ABCD'[k % 4],
    crm_account_id: `001${pad(k, 15)}`,
  }))
  const productNames = ['Tirosint', 'Synthroid', "O'Brien's Thyroid"]
  const products = productNames.map((name, i) => ({
    product_id: `ACM-P${i + 1}`,
    product_name: name,
    manufacturer: i === 0 ? 'IBSA' : 'Other',
    therapeutic_area: 'Hypothyroidism',
    is_company_product: i === 0,
    launch_date: `201${i}-01-01`,
    list_price: 100 + i * 10.5,
  }))
  const prescriptions = Array.from({ length: 120 }, (_, k) => ({
    rx_id: k + 1,
    hcp_id: hcps[k % 20]?.hcp_id,
    product_id: products[k % 3]?.product_id,
    week_ending: `2024-0${(k % 9) + 1}-0${(k % 4) + 1}`,
    payer_type: ['Commercial', 'Medicare', 'Medicaid', 'Cash'][k % 4],
    trx: (k % 7) + 1,
    nrx: k % 3,
    quantity: 30 + (k % 5),
  }))
  const calls = Array.from({ length: 60 }, (_, k) => {
    const hcp = hcps[k % 20]
    const rep = reps.find((r) => r.territory_id === hcp?.territory_id)
    return {
      call_id: `ACM-C${pad(k + 1, 6)}`,
      hcp_id: hcp?.hcp_id,
      rep_id: rep?.rep_id,
      product_id: k % 5 === 0 ? null : products[k % 2]?.product_id,
      call_date: `2024-1${k % 3}-1${k % 9}`,
      channel: ['In-person', 'Virtual', 'Phone', 'Email'][k % 4],
      status: ['Completed', 'Planned', 'Cancelled'][k % 3],
      duration_minutes: k % 4 === 3 ? 0 : 15 + (k % 3) * 5,
    }
  })
  await knex('territories').insert(territories)
  await knex('reps').insert(reps)
  await knex('hcps').insert(hcps)
  await knex('products').insert(products)
  await knex('prescriptions').insert(prescriptions)
  await knex('calls').insert(calls)
}

/** Row counts of every pharma table (to prove that nothing changed). */
export async function pharmaCounts(knex: Knex): Promise<Record<string, number>> {
  const out: Record<string, number> = {}
  for (const t of PHARMA_TABLES) {
    const [row] = (await knex(t).count({ n: '*' })) as { n: number | string }[]
    out[t] = Number(row?.n)
  }
  return out
}

/** A hash of every row of every pharma table (proves that no UPDATE slipped through either). */
export async function pharmaFingerprint(knex: Knex): Promise<string> {
  const hash = createHash('sha256')
  for (const t of TABLES) {
    const rows = await knex(t.name).select('*').orderBy(t.pk)
    hash.update(`${t.name}:${JSON.stringify(rows)}`)
  }
  return hash.digest('hex')
}
