import type { Knex } from 'knex'
import * as m001 from './001-tenants.ts'
import * as m002 from './002-api-keys.ts'
import * as m003 from './003-audit.ts'
import * as m004 from './004-tenant-removal.ts'

export interface Migration {
  name: string
  up(knex: Knex): Promise<void>
  down(knex: Knex): Promise<void>
}

/** Every metadata-store migration, in order. Add new ones at the end; never edit a released one. */
export const migrations: Migration[] = [m001, m002, m003, m004]
