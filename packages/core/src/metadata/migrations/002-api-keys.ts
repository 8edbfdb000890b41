import type { Knex } from 'knex'

export const name = '002-api-keys'

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('api_keys', (t) => {
    /** Public key id, the middle part of `nl2q_<id>_<secret>`; lookups are by primary key. */
    t.string('id', 32).primary()
    t.string('tenant', 64).notNullable().references('id').inTable('tenants').onDelete('CASCADE')
    /** SHA-256 (hex) of the secret part; the secret itself is never stored. */
    t.string('secret_hash', 64).notNullable()
    t.string('role', 16).notNullable()
    /** Row-policy attributes as JSON, e.g. {"territories":["ACM-T01"]}. */
    t.text('attributes').notNullable()
    t.string('label', 200).nullable()
    t.string('created_by', 255).nullable()
    t.string('created_at', 32).notNullable()
    t.string('expires_at', 32).nullable()
    t.string('revoked_at', 32).nullable()
    t.string('last_used_at', 32).nullable()
    t.index(['tenant'], 'api_keys_tenant_idx')
  })
  /**
   * Rate-limit counters shared by hub replicas on MySQL (rate-limiter-flexible's RateLimiterMySQL
   * layout, created here so the hub's database user needs no CREATE privilege at run time).
   * Unused on SQLite, where one process keeps its budgets in memory.
   */
  await knex.schema.createTable('nl2q_rate_limits', (t) => {
    t.string('key', 255).primary()
    t.integer('points').notNullable().defaultTo(0)
    t.bigInteger('expire').unsigned().nullable()
  })
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('nl2q_rate_limits')
  await knex.schema.dropTable('api_keys')
}
