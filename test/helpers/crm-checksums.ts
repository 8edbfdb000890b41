import { createHash } from 'node:crypto'
import type { Knex } from 'knex'
import type { OrgStore } from '../../packages/connectors/src/crm/testing/emulator/store.ts'

const line = (cells: unknown[]) =>
  cells.map((c) => (c === null || c === undefined ? '∅' : String(c))).join('|')
const digest = (lines: string[]) => createHash('sha256').update(lines.sort().join('\n')).digest('hex')

/** The calls the org holds, as the pharma `calls` table should hold them, independently derived. */
export function orgCalls(store: OrgStore): { count: number; checksum: string } {
  const accounts = store.table('Account')
  const users = store.table('User')
  const products = store.table('Product_vod__c')
  const lines = [...store.table('Call2_vod__c').values()].map((c) =>
    line([
      c.Id,
      accounts.get(String(c.Account_vod__c))?.External_ID_vod__c,
      users.get(String(c.OwnerId))?.EmployeeNumber,
      c.Product_vod__c ? products.get(String(c.Product_vod__c))?.External_ID_vod__c : null,
      c.Call_Date_vod__c,
      c.Call_Channel_vod__c,
      c.Status_vod__c,
      c.Duration_vod__c,
    ]),
  )
  return { count: lines.length, checksum: digest(lines) }
}

export async function targetCalls(knex: Knex): Promise<{ count: number; checksum: string }> {
  const rows = (await knex('calls').select(
    'call_id',
    'hcp_id',
    'rep_id',
    'product_id',
    'call_date',
    'channel',
    'status',
    'duration_minutes',
  )) as Record<string, unknown>[]
  const lines = rows.map((r) =>
    line([
      r.call_id,
      r.hcp_id,
      r.rep_id,
      r.product_id,
      String(r.call_date).slice(0, 10),
      r.channel,
      r.status,
      r.duration_minutes,
    ]),
  )
  return { count: lines.length, checksum: digest(lines) }
}

export function orgAccounts(store: OrgStore): { count: number; checksum: string } {
  const territories = store.table('Territory2')
  const lines = [...store.table('Account').values()].map((a) =>
    line([
      a.Id,
      a.External_ID_vod__c,
      a.NPI_vod__c,
      a.LastName,
      territories.get(String(a.Territory_vod__c))?.External_ID__c,
    ]),
  )
  return { count: lines.length, checksum: digest(lines) }
}

export async function targetHcps(knex: Knex): Promise<{ count: number; checksum: string }> {
  const rows = (await knex('hcps').select(
    'crm_account_id',
    'hcp_id',
    'npi',
    'last_name',
    'territory_id',
  )) as Record<string, unknown>[]
  const lines = rows.map((r) => line([r.crm_account_id, r.hcp_id, r.npi, r.last_name, r.territory_id]))
  return { count: lines.length, checksum: digest(lines) }
}
