import type { SemanticModel } from '../model-types.ts'
import type { ValueIndex } from '../values/value-index.ts'

/**
 * What an LLM planner is told about a tenant: datasets, fields (as `dataset.field`), kinds, types,
 * units, synonyms and relationships of the principal's visible model — never rows. Values of
 * low-cardinality columns (the value index) are included only up to `valueSamples` per column, and
 * only when the operator allows it (HUB_LLM_VALUE_SAMPLES, default 0).
 */
export interface ModelCard {
  datasets: {
    name: string
    label: string
    synonyms: string[]
    labelColumns: string[]
    defaultTimeField?: string
    fields: {
      ref: string
      label: string
      kind: string
      type: string
      synonyms?: string[]
      aggregation?: string
      unit?: string
      values?: string[]
    }[]
  }[]
  relationships: string[]
}

export function modelCard(model: SemanticModel, values: ValueIndex, valueSamples = 0): ModelCard {
  const samples = new Map(values.columns.map((c) => [`${c.dataset}.${c.field}`, c.values]))
  return {
    datasets: model.datasets
      .filter((d) => !d.hidden)
      .map((d) => ({
        name: d.name,
        label: d.label,
        synonyms: d.synonyms,
        labelColumns: d.labelColumns,
        ...(d.defaultTimeDimension ? { defaultTimeField: `${d.name}.${d.defaultTimeDimension}` } : {}),
        fields: d.fields
          .filter((f) => !f.hidden && !f.derived)
          .map((f) => {
            const vals =
              valueSamples > 0 ? samples.get(`${d.name}.${f.name}`)?.slice(0, valueSamples) : undefined
            return {
              ref: `${d.name}.${f.name}`,
              label: f.label,
              kind: f.kind,
              type: f.type,
              ...(f.synonyms.length ? { synonyms: f.synonyms } : {}),
              ...(f.aggregation ? { aggregation: f.aggregation } : {}),
              ...(f.unit ? { unit: f.unit } : {}),
              ...(vals?.length ? { values: vals } : {}),
            }
          }),
      })),
    relationships: model.joins.map(
      (j) => `${j.from.dataset}.${j.from.columns.join(',')} -> ${j.to.dataset}.${j.to.columns.join(',')}`,
    ),
  }
}
