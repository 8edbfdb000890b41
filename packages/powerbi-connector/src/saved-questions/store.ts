import { randomUUID } from 'node:crypto'
import type { ConnectorState, ResultColumnType } from '@nl2q/core'

/**
 * Saved questions live in the connector's state (`ctx.state`, table `saved_questions`, keyed by
 * name), which the core keeps per (connector, tenant): a store is bound to one tenant and cannot
 * name another. Rows saved before contract v2 were copied there by the core's migration 006.
 */
export const SAVED_QUESTIONS_TABLE = 'saved_questions'

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
  /** Identifier-safe name; the entity set is `saved_<name>`. */
  name: string
  question: string
  asOf: string | null
  columns: SavedColumn[]
  createdBy: string
  createdAt: string
}

export interface SavedQuestionStore {
  list(): Promise<SavedQuestion[]>
  get(name: string): Promise<SavedQuestion | null>
  /** CONFLICT when the name is taken. */
  create(input: Omit<SavedQuestion, 'id' | 'createdAt'>): Promise<SavedQuestion>
  remove(name: string): Promise<boolean>
}

/** Rows per state-store read when listing (the state store caps a read at 10,000). */
const PAGE = 1000

export function savedQuestionStore(state: ConnectorState): SavedQuestionStore {
  const table = state.table<SavedQuestion>(SAVED_QUESTIONS_TABLE)
  return {
    async list() {
      // The state store answers at most PAGE rows a call: page by id until a short page. Ids only
      // grow, so the loop ends after rows/PAGE + 1 reads.
      const all: SavedQuestion[] = []
      let after: string | undefined
      for (;;) {
        const page = await table.list({ limit: PAGE, ...(after === undefined ? {} : { after }) })
        for (const row of page) all.push(row.value)
        if (page.length < PAGE) return all
        after = page.at(-1)?.id
      }
    },
    async get(name) {
      return (await table.get(name)) ?? null
    },
    async create(input) {
      const saved: SavedQuestion = { ...input, id: randomUUID(), createdAt: new Date().toISOString() }
      await table.insert(saved.name, saved)
      return saved
    },
    remove: (name) => table.delete(name),
  }
}
