import type { Knex } from 'knex'

export const name = '006-saved-questions-to-state'

/** The table the Power BI connector created itself before contract v2 gave it `ctx.state`. */
const LEGACY = 'nl2q_saved_questions'

/**
 * Copy saved questions into the Power BI connector's state (`odata` / `saved_questions`, keyed by
 * name), so that feeds published before the upgrade keep refreshing. The old table is left in place
 * (a rollback still finds it); nothing reads it any more.
 */
export async function up(knex: Knex): Promise<void> {
  if (!(await knex.schema.hasTable(LEGACY))) return
  const rows = (await knex(LEGACY).select()) as {
    id: string
    tenant: string
    name: string
    question: string
    as_of: string | null
    columns_json: string
    created_by: string
    created_at: string
  }[]
  for (const r of rows) {
    const value = {
      id: r.id,
      name: r.name,
      question: r.question,
      asOf: r.as_of,
      columns: JSON.parse(r.columns_json) as unknown,
      createdBy: r.created_by,
      createdAt: r.created_at,
    }
    await knex('connector_state')
      .insert({
        connector: 'odata',
        tenant: r.tenant,
        tbl: 'saved_questions',
        id: r.name,
        value_json: JSON.stringify(value),
        updated_at: r.created_at,
      })
      .onConflict(['connector', 'tenant', 'tbl', 'id'])
      .ignore()
  }
}

export async function down(): Promise<void> {}
