import type { Knex } from 'knex'

export const name = '001-tenants'

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('tenants', (t) => {
    t.string('id', 64).primary()
    /** The tenant data-source URL: a secret, never returned by an API or logged. */
    t.text('db_url').notNullable()
    /** Overrides model: a bundled name (`pharma`) or a file path; null = purely inferred. */
    t.string('model', 512).nullable()
    /** Per-tenant settings (rate limits per role, …) as JSON. */
    t.text('settings').notNullable().defaultTo('{}')
    t.string('created_at', 32).notNullable()
  })
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('tenants')
}
