import type { Knex } from 'knex'

export const name = '005-connectors'

/**
 * Connector contract v2: what a connector owns lives in core tables, every row keyed by
 * (connector, tenant) so that the context a connector gets can only name its own rows — state
 * (key/value + small tables), sealed secrets, per-tenant settings — and the job runner's leases,
 * run history and schedules.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('connector_state', (t) => {
    t.string('connector', 32).notNullable()
    t.string('tenant', 64).notNullable()
    /** '' for the key/value part, else the connector's table name. */
    t.string('tbl', 64).notNullable()
    t.string('id', 191).notNullable()
    t.text('value_json').notNullable()
    t.string('updated_at', 32).notNullable()
    t.primary(['connector', 'tenant', 'tbl', 'id'])
  })
  await knex.schema.createTable('connector_secrets', (t) => {
    /** `<connector>:<tenant>:<name>`: one id column, bound into the sealed value's context. */
    t.string('id', 191).primary()
    t.string('connector', 32).notNullable()
    t.string('tenant', 64).notNullable()
    t.string('name', 64).notNullable()
    t.text('value').notNullable()
    t.string('updated_at', 32).notNullable()
    t.index(['connector', 'tenant'])
  })
  await knex.schema.createTable('connector_settings', (t) => {
    t.string('connector', 32).notNullable()
    t.string('tenant', 64).notNullable()
    t.string('key', 64).notNullable()
    t.text('value').notNullable()
    t.string('updated_at', 32).notNullable()
    t.primary(['connector', 'tenant', 'key'])
  })
  await knex.schema.createTable('job_leases', (t) => {
    /** `<connector>:<job>` */
    t.string('job', 96).notNullable()
    t.string('tenant', 64).notNullable()
    t.string('holder', 128).notNullable()
    t.string('run_id', 36).notNullable()
    /** Epoch milliseconds of the holder's clock. */
    t.bigInteger('expires_at').notNullable()
    t.primary(['job', 'tenant'])
  })
  await knex.schema.createTable('job_runs', (t) => {
    t.string('id', 36).primary()
    t.string('job', 96).notNullable()
    t.string('tenant', 64).notNullable()
    t.string('trigger', 16).notNullable()
    /** A scheduled run's slot (`<job>:<tenant>:<time>`): one run per slot across replicas. */
    t.string('slot', 191).nullable().unique()
    t.string('status', 16).notNullable()
    t.string('holder', 128).notNullable()
    t.text('input_json').notNullable()
    t.text('result_json').nullable()
    t.string('error_code', 32).nullable()
    t.text('error_message').nullable()
    t.string('started_at', 32).notNullable()
    t.string('finished_at', 32).nullable()
    t.index(['tenant', 'started_at'])
  })
  await knex.schema.createTable('job_schedules', (t) => {
    t.string('job', 96).notNullable()
    t.string('tenant', 64).notNullable()
    t.string('cron', 128).notNullable()
    t.text('input_json').notNullable()
    t.string('updated_at', 32).notNullable()
    t.primary(['job', 'tenant'])
  })
}

export async function down(knex: Knex): Promise<void> {
  for (const table of [
    'job_schedules',
    'job_runs',
    'job_leases',
    'connector_settings',
    'connector_secrets',
    'connector_state',
  ])
    await knex.schema.dropTableIfExists(table)
}
