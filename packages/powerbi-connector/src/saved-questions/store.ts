import { randomUUID } from 'node:crypto'
import { HubError, type ResultColumnType } from '@nl2q/core'
import type { Knex } from 'knex'

/**
 * Saved questions live in the hub's metadata database, in a table this connector owns and migrates
 * itself (its own knex migration table), so that the core never depends on the connector.
 */
export const SAVED_QUESTIONS_TABLE = 'nl2q_saved_questions'
const MIGRATIONS_TABLE = 'nl2q_powerbi_migrations'

export interface SavedColumn {
  /** OData property name (identifier-safe). */
  name: string
  /** The answer's column name it is read from. */
  source: string
  type: ResultColumnType
  label: string
}

export interface SavedQuestion {
  id: string
  tenant: string
  /** Identifier-safe name; the entity set is `saved_<name>`. */
  name: string
  question: string
  asOf: string | null
  columns: SavedColumn[]
  createdBy: string
  createdAt: string
}

interface Migration {
  name: string
  up(knex: Knex): Promise<void>
  down(knex: Knex): Promise<void>
}

const migrations: Migration[] = [
  {
    name: 'powerbi-001-saved-questions',
    async up(knex) {
      await knex.schema.createTable(SAVED_QUESTIONS_TABLE, (t) => {
        t.string('id', 36).primary()
        t.string('tenant', 64).notNullable()
        t.string('name', 64).notNullable()
        t.text('question').notNullable()
        t.string('as_of', 10).nullable()
        t.text('columns_json').notNullable()
        t.string('created_by', 255).notNullable()
        t.string('created_at', 32).notNullable()
        t.unique(['tenant', 'name'])
      })
    },
    async down(knex) {
      await knex.schema.dropTableIfExists(SAVED_QUESTIONS_TABLE)
    },
  },
]

const source: Knex.MigrationSource<Migration> = {
  getMigrations: async () => migrations,
  getMigrationName: (m) => m.name,
  getMigration: async (m) => m,
}

interface Row {
  id: string
  tenant: string
  name: string
  question: string
  as_of: string | null
  columns_json: string
  created_by: string
  created_at: string
}

const fromRow = (r: Row): SavedQuestion => ({
  id: r.id,
  tenant: r.tenant,
  name: r.name,
  question: r.question,
  asOf: r.as_of,
  columns: JSON.parse(r.columns_json) as SavedColumn[],
  createdBy: r.created_by,
  createdAt: r.created_at,
})

export interface SavedQuestionStore {
  migrate(): Promise<void>
  list(tenant: string): Promise<SavedQuestion[]>
  get(tenant: string, name: string): Promise<SavedQuestion | null>
  create(input: Omit<SavedQuestion, 'id' | 'createdAt'>): Promise<SavedQuestion>
  remove(tenant: string, name: string): Promise<boolean>
  close(): Promise<void>
}

/** A store on an open knex (tests, or a metadata handle the core may expose later). */
export function savedQuestionStore(knex: Knex, onClose?: () => Promise<void>): SavedQuestionStore {
  let migrated: Promise<void> | null = null
  const ready = () => {
    migrated ??= knex.migrate
      .latest({ migrationSource: source, tableName: MIGRATIONS_TABLE })
      .then(() => undefined)
      .catch((err: unknown) => {
        migrated = null
        throw new HubError('SERVICE_UNAVAILABLE', 'The saved-questions store is not available', {
          cause: err,
        })
      })
    return migrated
  }
  return {
    migrate: ready,
    async list(tenant) {
      await ready()
      const rows = (await knex(SAVED_QUESTIONS_TABLE).where({ tenant }).orderBy('name')) as Row[]
      return rows.map(fromRow)
    },
    async get(tenant, name) {
      await ready()
      const row = (await knex(SAVED_QUESTIONS_TABLE).where({ tenant, name }).first()) as Row | undefined
      return row ? fromRow(row) : null
    },
    async create(input) {
      await ready()
      const saved: SavedQuestion = { ...input, id: randomUUID(), createdAt: new Date().toISOString() }
      try {
        await knex(SAVED_QUESTIONS_TABLE).insert({
          id: saved.id,
          tenant: saved.tenant,
          name: saved.name,
          question: saved.question,
          as_of: saved.asOf,
          columns_json: JSON.stringify(saved.columns),
          created_by: saved.createdBy,
          created_at: saved.createdAt,
        })
      } catch (cause) {
        const existing = await knex(SAVED_QUESTIONS_TABLE)
          .where({ tenant: input.tenant, name: input.name })
          .first()
        if (existing)
          throw new HubError('CONFLICT', `A saved question named '${input.name}' already exists`, { cause })
        throw cause
      }
      return saved
    },
    async remove(tenant, name) {
      await ready()
      return (await knex(SAVED_QUESTIONS_TABLE).where({ tenant, name }).delete()) > 0
    },
    close: async () => {
      await onClose?.()
    },
  }
}
