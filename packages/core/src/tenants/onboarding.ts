import type { BoundHub } from '../connectors/bound-hub.ts'
import { PHARMA_TABLES } from '../demo/schema.ts'
import type { SemanticModel } from '../engine/model-types.ts'

/**
 * What `hub tenant add` tells an operator about a new tenant: which bundled overrides model its
 * schema looks like, and questions the engine answers on it (each one run before it is shown).
 */

/** Bundled overrides models and the tables (with their columns) a schema needs to look like one. */
const BUNDLED: Array<{ name: string; tables: ReadonlyArray<{ name: string; columns: string[] }> }> = [
  {
    name: 'pharma',
    tables: PHARMA_TABLES.map((t) => ({ name: t.name, columns: t.columns.map((c) => c.name) })),
  },
]

/** The bundled model whose every table and column the inferred model has, if any. */
export function matchingBundledModel(model: SemanticModel): string | null {
  const tables = new Map(
    model.datasets.map((d) => [
      d.table.toLowerCase(),
      new Set(d.fields.flatMap((f) => (f.column ? [f.column.toLowerCase()] : []))),
    ]),
  )
  const found = BUNDLED.find((b) =>
    b.tables.every((t) => {
      const columns = tables.get(t.name.toLowerCase())
      return columns !== undefined && t.columns.every((c) => columns.has(c.toLowerCase()))
    }),
  )
  return found?.name ?? null
}

export interface CheckedExample {
  dataset: string
  question: string
  rowCount: number
}

/**
 * Up to `max` of the model's example questions that the hub answers with at least one row on
 * this data, tried in dataset order, one per dataset first. Bounded: each example runs once, with
 * a one-row limit. They are real reads of the tenant's data, so they go through the audited hub
 * (each leaves a `data.ask` record), never straight to the engine.
 */
export async function answerableExamples(
  hub: Pick<BoundHub, 'ask' | 'datasets'>,
  max = 5,
): Promise<CheckedExample[]> {
  const summaries = await hub.datasets()
  const rounds = Math.max(0, ...summaries.map((s) => s.examples.length))
  const out: CheckedExample[] = []
  for (let round = 0; round < rounds && out.length < max; round++) {
    for (const s of summaries) {
      const question = s.examples[round]
      if (!question || out.length >= max) continue
      try {
        const r = await hub.ask({ question, limit: 1 })
        if (r.rows.length > 0) out.push({ dataset: s.name, question, rowCount: r.rowCount })
      } catch {
        // not answerable on this data (or a refusal): not shown
      }
    }
  }
  return out
}
