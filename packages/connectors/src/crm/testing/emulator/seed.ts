import type { Knex } from 'knex'
import type { OrgStore, SRecord } from './store.ts'

const REGIONS = ['Northeast', 'Southeast', 'Midwest', 'Southwest', 'West']
const CHANNELS = ['In-person', 'Virtual', 'Phone', 'Email']
const STATUSES = ['Completed', 'Planned', 'Cancelled']
const SPECIALTIES = ['Endocrinology', 'Internal Medicine', 'Family Medicine', 'Cardiology']
const PRODUCTS = [
  'Tirosint',
  'Tirosint-SOL',
  'Synthroid',
  'Levoxyl',
  'Unithroid',
  'Cytomel',
  'Armour Thyroid',
]

/** A small deterministic PRNG (mulberry32): the same seed gives the same org. */
export function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export interface SyntheticOrg {
  territories: string[]
  users: string[]
  products: string[]
  accounts: string[]
}

/** A synthetic Veeva org with the default mapping's fields: `accounts` HCPs and `calls` calls. */
export function seedSynthetic(
  store: OrgStore,
  opts: { prefix: string; accounts: number; calls: number; seed?: number; ageMs?: number },
): SyntheticOrg {
  const rand = prng(opts.seed ?? 1)
  // An org's data is older than the sync: stamped a day ago by default, so an overlap window re-reads only fresh changes.
  const stamp = Date.now() - (opts.ageMs ?? 86_400_000)
  const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)] as T
  const pad = (n: number, w: number) => String(n).padStart(w, '0')
  const org: SyntheticOrg = { territories: [], users: [], products: [], accounts: [] }
  for (let i = 1; i <= 20; i += 1) {
    const t = store.insert(
      'Territory2',
      {
        Name: `Territory ${i}`,
        External_ID__c: `${opts.prefix}-T${pad(i, 2)}`,
        Region__c: REGIONS[(i - 1) % 5] as string,
        District__c: `District ${Math.ceil(i / 2)}`,
      },
      stamp,
    )
    org.territories.push(t.Id as string)
  }
  for (let i = 1; i <= 40; i += 1) {
    const u = store.insert(
      'User',
      {
        Name: `Rep ${i}`,
        EmployeeNumber: `${opts.prefix}-R${pad(i, 3)}`,
        Email: `rep${i}@example.test`,
        IsActive: true,
        Hire_Date__c: `2020-0${(i % 9) + 1}-15`,
        Primary_Territory__c: org.territories[Math.floor((i - 1) / 2)] as string,
      },
      stamp,
    )
    org.users.push(u.Id as string)
  }
  for (const [i, name] of PRODUCTS.entries()) {
    const p = store.insert(
      'Product_vod__c',
      {
        Name: name,
        External_ID_vod__c: `${opts.prefix}-P${i + 1}`,
        Manufacturer_vod__c: i < 2 ? 'IBSA' : 'Other Pharma',
        Therapeutic_Area_vod__c: name === 'Cytomel' ? 'Thyroid Hormone Adjunct' : 'Hypothyroidism',
        Company_Product_vod__c: i < 2,
        Launch_Date__c: '2010-01-01',
        List_Price__c: 100 + i * 12.5,
      },
      stamp,
    )
    org.products.push(p.Id as string)
  }
  for (let i = 1; i <= opts.accounts; i += 1) {
    const a = store.insert(
      'Account',
      {
        IsPersonAccount: true,
        Name: `Dr ${i}`,
        FirstName: `First${i}`,
        LastName: `Last${i}`,
        External_ID_vod__c: `${opts.prefix}-H${pad(i, 5)}`,
        NPI_vod__c: pad(1_000_000_000 + i, 10),
        Specialty_1_vod__c: pick(SPECIALTIES),
        PersonMailingCity: 'Boston',
        PersonMailingState: 'MA',
        Segment__c: pick(['A', 'B', 'C', 'D']),
        Territory_vod__c: pick(org.territories),
      },
      stamp,
    )
    org.accounts.push(a.Id as string)
  }
  for (let i = 0; i < opts.calls; i += 1) addCall(store, org, rand, stamp)
  return org
}

export function addCall(store: OrgStore, org: SyntheticOrg, rand: () => number, stampMs?: number): SRecord {
  const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)] as T
  const channel = pick(CHANNELS)
  const day = 1 + Math.floor(rand() * 700)
  return store.insert(
    'Call2_vod__c',
    {
      Name: 'Call',
      Account_vod__c: pick(org.accounts),
      OwnerId: pick(org.users),
      Product_vod__c: rand() < 0.8 ? (org.products[Math.floor(rand() * 2)] as string) : null,
      Call_Date_vod__c: new Date(Date.UTC(2023, 0, day)).toISOString().slice(0, 10),
      Call_Channel_vod__c: channel,
      Status_vod__c: pick(STATUSES),
      Duration_vod__c: channel === 'Email' ? 0 : 5 + Math.floor(rand() * 40),
    },
    stampMs,
  )
}

/**
 * An org holding what a pharma tenant database holds (territories, reps, products, HCPs with
 * their `crm_account_id` as Account Id, calls with `call_id` as Call2 Id): the org the demo's CRM
 * columns came from, so a sync into that database upserts onto its own rows.
 */
export async function seedFromPharma(store: OrgStore, knex: Knex): Promise<SyntheticOrg> {
  const org: SyntheticOrg = { territories: [], users: [], products: [], accounts: [] }
  const stamp = Date.now() - 86_400_000
  const territory = new Map<string, string>()
  for (const t of await knex('territories').select()) {
    const r = store.insert(
      'Territory2',
      {
        Name: t.territory_name,
        External_ID__c: t.territory_id,
        Region__c: t.region,
        District__c: t.district,
      },
      stamp,
    )
    territory.set(t.territory_id, r.Id as string)
    org.territories.push(r.Id as string)
  }
  const user = new Map<string, string>()
  for (const u of await knex('reps').select()) {
    const r = store.insert(
      'User',
      {
        Name: u.rep_name,
        EmployeeNumber: u.rep_id,
        Email: u.email,
        IsActive: true,
        Hire_Date__c: String(u.hire_date).slice(0, 10),
        Primary_Territory__c: territory.get(u.territory_id) ?? null,
      },
      stamp,
    )
    user.set(u.rep_id, r.Id as string)
    org.users.push(r.Id as string)
  }
  const product = new Map<string, string>()
  for (const p of await knex('products').select()) {
    const r = store.insert(
      'Product_vod__c',
      {
        Name: p.product_name,
        External_ID_vod__c: p.product_id,
        Manufacturer_vod__c: p.manufacturer,
        Therapeutic_Area_vod__c: p.therapeutic_area,
        Company_Product_vod__c: Boolean(p.is_company_product),
        Launch_Date__c: String(p.launch_date).slice(0, 10),
        List_Price__c: Number(p.list_price),
      },
      stamp,
    )
    product.set(p.product_id, r.Id as string)
    org.products.push(r.Id as string)
  }
  const account = new Map<string, string>()
  for (const h of await knex('hcps').select()) {
    store.insert(
      'Account',
      {
        Id: h.crm_account_id,
        IsPersonAccount: true,
        Name: `${h.first_name} ${h.last_name}`,
        FirstName: h.first_name,
        LastName: h.last_name,
        External_ID_vod__c: h.hcp_id,
        NPI_vod__c: h.npi,
        Specialty_1_vod__c: h.specialty,
        PersonMailingCity: h.city,
        PersonMailingState: h.state,
        Segment__c: h.segment,
        Territory_vod__c: territory.get(h.territory_id) ?? null,
      },
      stamp,
    )
    account.set(h.hcp_id, h.crm_account_id)
    org.accounts.push(h.crm_account_id)
  }
  for (const c of await knex('calls').select()) {
    store.insert(
      'Call2_vod__c',
      {
        Id: c.call_id,
        Name: 'Call',
        Account_vod__c: account.get(c.hcp_id) ?? null,
        OwnerId: user.get(c.rep_id) ?? null,
        Product_vod__c: c.product_id ? (product.get(c.product_id) ?? null) : null,
        Call_Date_vod__c: String(c.call_date).slice(0, 10),
        Call_Channel_vod__c: c.channel,
        Status_vod__c: c.status,
        Duration_vod__c: c.duration_minutes,
      },
      stamp,
    )
  }
  return org
}
