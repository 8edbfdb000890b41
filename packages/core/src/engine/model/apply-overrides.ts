import { HubError } from '../../errors.ts'
import type { Dataset, Field, SemanticModel } from '../model-types.ts'
import type { DatasetOverride, FieldOverride, Overrides } from './overrides.ts'
import { labelFromWords, pluralPhrase, splitIdentifier } from './words.ts'

/** Collects every reference problem so the operator sees them all at once. */
class Problems {
  readonly list: string[] = []
  add(path: string, message: string): void {
    this.list.push(`${path}: ${message}`)
  }
  throwIfAny(name: string): void {
    if (this.list.length === 0) return
    throw new HubError(
      'CONFIG_INVALID',
      `Model overrides '${name}' do not fit the schema: ${this.list.slice(0, 8).join('; ')}`,
      { details: { problems: this.list } },
    )
  }
}

function applyField(field: Field, o: FieldOverride): void {
  if (o.label) field.label = o.label
  if (o.synonyms) field.synonyms = [...new Set([...field.synonyms, ...o.synonyms])]
  if (o.kind) {
    field.kind = o.kind
    if (o.kind === 'measure' && !field.aggregation) field.aggregation = 'sum'
  }
  if (o.aggregation) field.aggregation = o.aggregation
  if (o.hidden !== undefined) field.hidden = o.hidden
  if (o.roles) field.roles = o.roles
  if (o.grain) field.grain = o.grain
  if (o.values) field.valueSynonyms = { ...field.valueSynonyms, ...o.values }
  if (o.indexed !== undefined) field.indexed = o.indexed
  if (o.unit) field.unit = o.unit
}

function applyDataset(ds: Dataset, o: DatasetOverride, path: string, problems: Problems): void {
  if (o.label) {
    ds.label = o.label
    ds.pluralLabel = o.pluralLabel ?? pluralPhrase(o.label)
  }
  if (o.pluralLabel) ds.pluralLabel = o.pluralLabel
  if (o.synonyms) ds.synonyms = [...new Set([...ds.synonyms, ...o.synonyms])]
  if (o.verbs) ds.verbs = [...new Set([...(ds.verbs ?? []), ...o.verbs])]
  if (o.hidden !== undefined) ds.hidden = o.hidden
  if (o.unrestricted !== undefined) ds.unrestricted = o.unrestricted
  const has = (name: string) => ds.fields.some((f) => f.name === name && !f.derived)
  for (const [name, fo] of Object.entries(o.fields ?? {})) {
    const field = ds.fields.find((f) => f.name === name)
    if (!field) problems.add(`${path}.fields.${name}`, `no column '${name}' in table ${ds.table}`)
    else applyField(field, fo)
  }
  if (o.labelColumns) {
    o.labelColumns.forEach((c, i) => {
      if (!has(c)) problems.add(`${path}.labelColumns.${i}`, `no column '${c}' in table ${ds.table}`)
    })
    ds.labelColumns = o.labelColumns
  }
  if (o.market) {
    const f = ds.fields.find((x) => x.name === o.market && !x.derived)
    if (!f || f.kind === 'measure')
      problems.add(`${path}.market`, `'${o.market}' is not a dimension column of ${ds.table}`)
    else ds.market = f.name
  }
  if (o.defaultTimeDimension) {
    const f = ds.fields.find((x) => x.name === o.defaultTimeDimension)
    if (!f)
      problems.add(`${path}.defaultTimeDimension`, `no column '${o.defaultTimeDimension}' in ${ds.table}`)
    else if (f.type !== 'date' && f.type !== 'datetime')
      problems.add(`${path}.defaultTimeDimension`, `'${f.name}' is not a date or datetime column`)
    else ds.defaultTimeDimension = f.name
  }
  for (const [name, d] of Object.entries(o.derived ?? {})) {
    const m = /^\s*(\w+)\s*([-+*/])\s*(\w+)\s*$/.exec(d.expression)
    if (!m) continue
    const [, left = '', op = '+', right = ''] = m
    for (const side of [left, right]) {
      const f = ds.fields.find((x) => x.name === side)
      if (!f || (f.kind !== 'measure' && !f.derived))
        problems.add(`${path}.derived.${name}.expression`, `'${side}' is not a measure of ${ds.name}`)
    }
    if (ds.fields.some((f) => f.name === name)) {
      problems.add(`${path}.derived.${name}`, `'${name}' already names a column of ${ds.table}`)
      continue
    }
    ds.fields.push({
      name,
      dataset: ds.name,
      derived: { op: op as '+' | '-' | '*' | '/', left, right, level: d.level ?? 'aggregate' },
      kind: 'measure',
      type: 'decimal',
      label: d.label ?? labelFromWords(splitIdentifier(name)),
      synonyms: d.synonyms ?? [],
      aggregation: 'sum',
      hidden: d.hidden ?? false,
      ...(d.roles ? { roles: d.roles } : {}),
    })
  }
}

/** Merge validated overrides into an inferred model; every bad reference is reported with its path. */
export function applyOverrides(model: SemanticModel, overrides: Overrides): SemanticModel {
  const problems = new Problems()
  for (const [name, o] of Object.entries(overrides.datasets)) {
    const ds = model.datasets.find((d) => d.name === name)
    if (!ds) problems.add(`datasets.${name}`, `no table '${name}' in the database`)
    else applyDataset(ds, o, `datasets.${name}`, problems)
  }
  overrides.rowPolicies.forEach((rule, i) => {
    const ds = model.datasets.find((d) => d.name === rule.dataset)
    if (!ds) problems.add(`rowPolicies.${i}.dataset`, `no table '${rule.dataset}'`)
    else if (!ds.fields.some((f) => f.name === rule.column && f.column))
      problems.add(`rowPolicies.${i}.column`, `no column '${rule.column}' in ${rule.dataset}`)
  })
  if (overrides.defaultMeasure) {
    const [d, f] = overrides.defaultMeasure.split('.')
    const field = model.datasets.find((x) => x.name === d)?.fields.find((x) => x.name === f)
    if (field?.kind !== 'measure')
      problems.add('defaultMeasure', `'${overrides.defaultMeasure}' is not a measure of the model`)
    else model.defaultMeasure = overrides.defaultMeasure
  }
  if (overrides.inferRelationships === false) model.joins = model.joins.filter((j) => !j.inferred)
  addRelationships(model, overrides, problems)
  problems.throwIfAny(overrides.name ?? 'overrides')
  model.rowPolicies = overrides.rowPolicies.map((r) => ({
    ...(r.roles ? { roles: r.roles } : {}),
    dataset: r.dataset,
    column: r.column,
    in: { attribute: r.in.attribute, ...(r.in.required === false ? { required: false } : {}) },
  }))
  if (overrides.name) model.name = overrides.name
  return model
}

/** Listed relationships become joins (a column already joined the same way is left as it is). */
function addRelationships(model: SemanticModel, overrides: Overrides, problems: Problems): void {
  overrides.relationships.forEach((r, i) => {
    const [fromDs = '', fromCol = ''] = r.from.split('.')
    const [toDs = '', toCol = ''] = r.to.split('.')
    const child = model.datasets.find((d) => d.name === fromDs)?.fields.find((f) => f.column === fromCol)
    const parent = model.datasets.find((d) => d.name === toDs)?.fields.find((f) => f.column === toCol)
    if (!child) problems.add(`relationships.${i}.from`, `no column '${r.from}'`)
    if (!parent) problems.add(`relationships.${i}.to`, `no column '${r.to}'`)
    if (!child || !parent) return
    const same = model.joins.find((j) => j.from.dataset === fromDs && j.from.columns.join() === fromCol)
    if (same) {
      if (same.to.dataset === toDs && same.to.columns.join() === toCol) delete same.inferred
      else problems.add(`relationships.${i}`, `${r.from} already references ${same.to.dataset}`)
      return
    }
    model.joins.push({
      from: { dataset: fromDs, columns: [fromCol] },
      to: { dataset: toDs, columns: [toCol] },
    })
    child.kind = 'key'
    delete child.aggregation
    child.references = { dataset: toDs, field: parent.name }
  })
}
