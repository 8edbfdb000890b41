import type { Knex } from 'knex'

export const name = '003-audit'

export async function up(knex: Knex): Promise<void> {
  /** One append-only, hash-chained sequence per tenant; (tenant, seq) unique is the last defence. */
  await knex.schema.createTable('audit_events', (t) => {
    t.string('tenant', 64).notNullable()
    t.bigInteger('seq').notNullable()
    /** UTC ISO-8601 with milliseconds; a string so that what is hashed is what is stored. */
    t.string('time', 32).notNullable()
    t.string('subject', 255).nullable()
    t.string('credential_id', 128).nullable()
    t.string('action', 64).notNullable()
    t.string('resource', 1024).nullable()
    t.string('request_id', 128).nullable()
    t.string('client_ip', 64).nullable()
    t.string('channel', 32).nullable()
    t.string('outcome', 16).notNullable()
    t.bigInteger('row_count').nullable()
    t.bigInteger('duration_ms').nullable()
    t.string('question_hash', 128).nullable()
    t.string('plan_hash', 128).nullable()
    t.string('sql_hash', 128).nullable()
    t.text('detail', 'mediumtext').nullable()
    t.string('prev_hash', 64).notNullable()
    t.string('hash', 64).notNullable()
    t.primary(['tenant', 'seq'])
    t.index(['tenant', 'time'], 'audit_events_tenant_time_idx')
  })
  /** The chain head per tenant: the row writers lock (FOR UPDATE / BEGIN IMMEDIATE) to append. */
  await knex.schema.createTable('audit_heads', (t) => {
    t.string('tenant', 64).primary()
    t.bigInteger('seq').notNullable()
    t.string('hash', 64).notNullable()
    t.string('updated_at', 32).notNullable()
  })
  /** Signed (HMAC, key outside the database) snapshots of a head, to detect tail truncation. */
  await knex.schema.createTable('audit_checkpoints', (t) => {
    t.increments('id').primary()
    t.string('tenant', 64).notNullable()
    t.bigInteger('seq').notNullable()
    t.string('hash', 64).notNullable()
    t.string('created_at', 32).notNullable()
    t.string('key_id', 16).notNullable()
    t.string('signature', 64).notNullable()
    t.index(['tenant', 'seq'], 'audit_checkpoints_tenant_seq_idx')
  })
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('audit_checkpoints')
  await knex.schema.dropTable('audit_heads')
  await knex.schema.dropTable('audit_events')
}
