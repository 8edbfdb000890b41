import { reachableFrom } from './model/join-graph.ts'
import type { Dataset, SemanticModel } from './model-types.ts'
import type { DatasetSummary } from './results.ts'

/**
 * What a principal may ask about each dataset: measures, dimensions, synonyms and a few example
 * questions built from the model itself (each one is checked by `accept`, i.e. the parser can plan it).
 */
function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1)
}

function lower(s: string): string {
  return /^[A-Z][a-z]/.test(s) ? s.charAt(0).toLowerCase() + s.slice(1) : s
}

function candidateExamples(model: SemanticModel, ds: Dataset): string[] {
  const measures = ds.fields.filter((f) => f.kind === 'measure' && !f.derived)
  const plural = ds.pluralLabel ?? ds.label
  const reach = reachableFrom(model, ds.name)
  const parents = [...reach.keys()]
    .filter((d) => d !== ds.name)
    .map((d) => model.datasets.find((x) => x.name === d))
    .filter((d): d is Dataset => !!d)
  // a good grouping column: low-cardinality text, not a name, e-mail or code
  const dims = [ds, ...parents].flatMap((d) =>
    d.fields.filter(
      (f) =>
        f.kind === 'dimension' &&
        f.indexed &&
        !f.unique &&
        f.type === 'string' &&
        !d.labelColumns.includes(f.name) &&
        !/(name|email|mail|phone|address|url|code)$/i.test(f.name),
    ),
  )
  const out: string[] = []
  const m = measures[0]
  const dim = dims[0]
  if (m) {
    const agg =
      m.aggregation === 'avg'
        ? 'Average'
        : m.aggregation === 'max'
          ? 'Maximum'
          : m.aggregation === 'min'
            ? 'Minimum'
            : 'Total'
    const ml = lower(m.label)
    if (dim) out.push(`${agg} ${ml} by ${lower(dim.label)}`)
    if (ds.defaultTimeDimension) out.push(`Monthly ${ml} trend last year`)
    const parent = parents.find((p) => p.labelColumns.length > 0)
    if (parent) out.push(`Top 5 ${lower(parent.pluralLabel ?? parent.label)} by ${ml}`)
  }
  if (dim) out.push(`How many ${lower(plural)} are there by ${lower(dim.label)}?`)
  out.push(`List the ${lower(plural)}`)
  return out
}

export function summarizeModel(
  model: SemanticModel,
  accept: (question: string) => boolean,
): DatasetSummary[] {
  return model.datasets
    .filter((d) => !d.hidden)
    .map((ds) => {
      const measures = ds.fields.filter((f) => f.kind === 'measure')
      const dimensions = ds.fields.filter((f) => f.kind !== 'measure')
      const examples = candidateExamples(model, ds).filter(accept).slice(0, 3)
      const parts = [
        measures.length ? `measures: ${measures.map((f) => f.label).join(', ')}` : '',
        ds.defaultTimeDimension
          ? `dated by ${ds.fields.find((f) => f.name === ds.defaultTimeDimension)?.label.toLowerCase()}`
          : '',
      ].filter(Boolean)
      return {
        name: ds.name,
        primaryKey: ds.primaryKey,
        label: ds.label,
        description: capitalize(
          `${ds.pluralLabel ?? ds.label}${parts.length ? ` — ${parts.join('; ')}` : ''}`,
        ),
        synonyms: ds.synonyms,
        measures: measures.map((f) => ({
          name: f.name,
          label: f.label,
          type: f.type,
          aggregation: f.aggregation ?? 'sum',
          synonyms: f.synonyms,
          derived: f.derived !== undefined,
          nullable: f.nullable !== false,
        })),
        dimensions: dimensions.map((f) => ({
          name: f.name,
          label: f.label,
          type: f.type,
          kind:
            f.kind === 'key'
              ? ('key' as const)
              : f.kind === 'time'
                ? ('time' as const)
                : ('dimension' as const),
          synonyms: f.synonyms,
          nullable: f.nullable !== false,
        })),
        examples,
      }
    })
}
