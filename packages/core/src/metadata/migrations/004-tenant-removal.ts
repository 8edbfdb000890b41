import type { Knex } from 'knex'

export const name = '004-tenant-removal'

/**
 * `hub tenant remove` keeps the tenant row (so its id is never reused and its audit chain stays
 * its own) and marks it removed; its data-source URL is erased at the same time.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('tenants', (t) => {
    t.string('removed_at', 32).nullable()
  })
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('tenants', (t) => {
    t.dropColumn('removed_at')
  })
}
