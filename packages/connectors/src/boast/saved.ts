import type { ConnectorState } from '@nl2q/core'

/** The Power BI connector's saved questions (its state table), which exports may name. */
export const SAVED_QUESTIONS = { connector: 'odata', table: 'saved_questions' } as const

interface SavedQuestionRow {
  question: string
  asOf: string | null
}

/** Read a saved question by name from the same tenant's store (read-only, declared in `reads`). */
export function savedQuestionReader(state: ConnectorState) {
  return async (name: string): Promise<{ question: string; asOf: string | null } | null> => {
    const row = await state.peer<SavedQuestionRow>(SAVED_QUESTIONS.connector, SAVED_QUESTIONS.table).get(name)
    return row && typeof row.question === 'string' ? { question: row.question, asOf: row.asOf ?? null } : null
  }
}
