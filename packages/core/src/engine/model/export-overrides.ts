import { stringify } from 'yaml'
import type { SemanticModel } from '../model-types.ts'
import type { DatasetOverride, FieldOverride, Overrides } from './overrides.ts'

/**
 * A model as an overrides file (`hub model export`): every dataset's and field's vocabulary, kinds,
 * aggregations and units, and the inferred relationships written out, so a data team edits names
 * and synonyms in one place and loads the file back with `--model path`. Loading it over the same
 * schema gives the same model.
 */
export function exportOverrides(model: SemanticModel): Overrides {
  const datasets: Record<string, DatasetOverride> = {}
  for (const d of model.datasets) {
    const fields: Record<string, FieldOverride> = {}
    const derived: NonNullable<DatasetOverride['derived']> = {}
    for (const f of d.fields) {
      if (f.derived) {
        derived[f.name] = {
          label: f.label,
          ...(f.synonyms.length ? { synonyms: f.synonyms } : {}),
          expression: `${f.derived.left} ${f.derived.op} ${f.derived.right}`,
          level: f.derived.level ?? 'aggregate',
          ...(f.hidden ? { hidden: true } : {}),
          ...(f.roles ? { roles: f.roles } : {}),
        }
        continue
      }
      fields[f.name] = {
        label: f.label,
        ...(f.synonyms.length ? { synonyms: f.synonyms } : {}),
        kind: f.kind,
        ...(f.aggregation ? { aggregation: f.aggregation } : {}),
        ...(f.unit ? { unit: f.unit } : {}),
        ...(f.hidden ? { hidden: true } : {}),
        ...(f.roles ? { roles: f.roles } : {}),
        ...(f.indexed !== undefined && f.kind === 'dimension' ? { indexed: f.indexed } : {}),
        ...(f.grain ? { grain: f.grain } : {}),
        ...(f.valueSynonyms ? { values: f.valueSynonyms } : {}),
      }
    }
    datasets[d.name] = {
      label: d.label,
      ...(d.pluralLabel ? { pluralLabel: d.pluralLabel } : {}),
      ...(d.synonyms.length ? { synonyms: d.synonyms } : {}),
      ...(d.hidden ? { hidden: true } : {}),
      ...(d.unrestricted ? { unrestricted: true } : {}),
      ...(d.verbs?.length ? { verbs: d.verbs } : {}),
      ...(d.market ? { market: d.market } : {}),
      labelColumns: d.labelColumns,
      ...(d.defaultTimeDimension ? { defaultTimeDimension: d.defaultTimeDimension } : {}),
      fields,
      ...(Object.keys(derived).length ? { derived } : {}),
    }
  }
  return {
    name: model.name,
    ...(model.defaultMeasure ? { defaultMeasure: model.defaultMeasure } : {}),
    datasets,
    rowPolicies: model.rowPolicies,
    relationships: model.joins
      .filter((j) => j.inferred && j.from.columns.length === 1)
      .map((j) => ({
        from: `${j.from.dataset}.${j.from.columns[0]}`,
        to: `${j.to.dataset}.${j.to.columns[0]}`,
      })),
  }
}

/** The overrides file as YAML, with a header saying how to use it. */
export function exportOverridesYaml(model: SemanticModel): string {
  const header = [
    '# NL2Q model overrides exported from the inferred model. Edit labels, synonyms, kinds and units,',
    '# then load it back: hub ask --db <url> --model model.yaml, or hub tenant set-model <id> model.yaml.',
    '# relationships: keys the database does not declare (inferred from names, types and values).',
  ]
  return `${header.join('\n')}\n${stringify(exportOverrides(model), { lineWidth: 0 })}`
}
