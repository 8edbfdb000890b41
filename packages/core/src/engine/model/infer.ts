import type { ColumnInfo, SchemaInfo, TableInfo } from '../../db/index.ts'
import type { Dataset, Field, FieldKind, Join, SemanticModel } from '../model-types.ts'
import { applyOverrides } from './apply-overrides.ts'
import type { Overrides } from './overrides.ts'
import { guessUnit, isRevenueLike, REVENUE_SYNONYMS } from './units.ts'
import {
  identifierWords,
  labelFromWords,
  pluralPhrase,
  singular,
  splitIdentifier,
  tableWords,
} from './words.ts'

/**
 * Infer a semantic model from a schema with no configuration: tables → datasets, foreign keys →
 * joins, numeric non-key columns → measures (SUM), text/boolean → dimensions, dates → time.
 */

/** Integer/decimal columns that identify or code something rather than measure it. */
const CODE_WORDS = new Set(
  'id code zip zipcode postcode postal year phone fax npi number no num ssn ein key uuid guid'.split(' '),
)
const LABEL_WORDS = new Set(['name', 'title', 'label'])
const lastWord = (name: string) => identifierWords(name).at(-1) ?? ''
const isCodeLike = (name: string) =>
  CODE_WORDS.has(splitIdentifier(name).at(-1) ?? '') || CODE_WORDS.has(lastWord(name))
const TIME_PREFERENCE = /(date|day|ending|time|_at|_on)$/i

function kindOf(col: ColumnInfo, fkCols: Set<string>): FieldKind {
  if (col.primaryKey || fkCols.has(col.name)) return 'key'
  if (col.type === 'date' || col.type === 'datetime') return 'time'
  if ((col.type === 'integer' || col.type === 'decimal') && !isCodeLike(col.name)) return 'measure'
  return 'dimension'
}

function fieldLabel(col: ColumnInfo): string[] {
  const words = identifierWords(col.name)
  if (
    col.type === 'boolean' &&
    words.length > 1 &&
    ['is', 'has', 'can', 'was', 'flag'].includes(words[0] ?? '')
  )
    words.shift()
  return words
}

function inferField(table: TableInfo, col: ColumnInfo, fkCols: Set<string>, dataset: string): Field {
  const kind = kindOf(col, fkCols)
  const words = fieldLabel(col)
  const field: Field = {
    name: col.name,
    dataset,
    column: col.name,
    rawType: col.rawType,
    nullable: col.nullable,
    kind,
    type: col.type === 'unknown' ? 'string' : col.type,
    label: labelFromWords(words),
    synonyms: [],
    hidden: false,
  }
  if (col.comment) {
    field.description = col.comment
    field.synonyms.push(...commentSynonyms(col.comment, field.label))
  }
  if (kind === 'measure') {
    field.aggregation = 'sum'
    const commentWords = col.comment ? identifierWords(col.comment) : []
    const unit = guessUnit(words) ?? guessUnit(commentWords.filter((w) => w !== 'in'))
    if (unit) field.unit = unit
    if (unit === 'currency' && (isRevenueLike(words) || commentWords.includes('revenue')))
      field.synonyms.push(...REVENUE_SYNONYMS.filter((s) => !field.synonyms.includes(s)))
  }
  if (col.unique) field.unique = true
  if (kind === 'dimension' && field.type === 'string') field.indexed = true
  if (kind === 'time' && /(^|_)(week|wk)(_|$)/i.test(col.name)) field.grain = 'week'
  const fk = table.foreignKeys.find((f) => f.columns.length === 1 && f.columns[0] === col.name)
  if (fk?.refColumns[0]) field.references = { dataset: fk.refTable, field: fk.refColumns[0] }
  return field
}

function inferDataset(table: TableInfo): Dataset {
  const fkCols = new Set(table.foreignKeys.flatMap((f) => f.columns))
  const fields = table.columns.map((c) => inferField(table, c, fkCols, table.name))
  const words = tableWords(table.name)
  const last = words.pop() ?? table.name
  const singularWords = [...words, singular(last)]
  const label = labelFromWords(singularWords)
  const labelColumns = inferLabelColumns(table)
  const times = fields.filter((f) => f.kind === 'time')
  const defaultTime = times.find((f) => TIME_PREFERENCE.test(f.name)) ?? times[0]
  return {
    name: table.name,
    table: table.name,
    label,
    pluralLabel: pluralPhrase(label),
    synonyms: [],
    primaryKey: table.primaryKey,
    labelColumns,
    ...(defaultTime ? { defaultTimeDimension: defaultTime.name } : {}),
    fields,
    hidden: false,
  }
}

/**
 * Columns that name a row: `name`, `*_name`, `custName`, `title`; first + last name together; a
 * unique description (`skuDesc`) when nothing is called a name.
 */
function inferLabelColumns(table: TableInfo): string[] {
  const text = table.columns.filter((c) => c.type === 'string' && !c.primaryKey)
  let named = text.filter((c) => LABEL_WORDS.has(lastWord(c.name)))
  if (named.length === 0) named = text.filter((c) => c.unique && lastWord(c.name) === 'description')
  const first = named.find((c) => /first_?name$/i.test(c.name))
  const last = named.find((c) => /last_?name$|surname$/i.test(c.name))
  if (first && last) return [first.name, last.name]
  const full = named.find((c) => /(^|_)(full_?name|display_?name)$/i.test(c.name))
  if (full) return [full.name]
  const unique = named.find((c) => c.unique)
  if (unique) return [unique.name]
  return named[0] ? [named[0].name] : []
}

/** Foreign keys → joins, ordered by the position of the FK column so path choice is deterministic. */
function inferJoins(schema: SchemaInfo): Join[] {
  const names = new Set(schema.tables.map((t) => t.name))
  const joins: Join[] = []
  for (const t of schema.tables) {
    const pos = (col: string | undefined) => t.columns.findIndex((c) => c.name === col)
    const fks = [...t.foreignKeys].sort((a, b) => pos(a.columns[0]) - pos(b.columns[0]))
    for (const fk of fks) {
      if (!names.has(fk.refTable)) continue
      joins.push({
        ...(fk.inferred ? { inferred: true as const } : {}),
        from: { dataset: t.name, columns: fk.columns },
        to: { dataset: fk.refTable, columns: fk.refColumns },
      })
    }
  }
  return joins
}

/** The model of a schema, refined by optional overrides (errors name the bad overrides path). */
export function inferModel(schema: SchemaInfo, overrides?: Overrides): SemanticModel {
  const model: SemanticModel = {
    name: overrides?.name ?? 'inferred',
    dialect: schema.dialect,
    datasets: schema.tables.map(inferDataset),
    joins: inferJoins(schema),
    rowPolicies: [],
  }
  return overrides ? applyOverrides(model, overrides) : model
}

/**
 * Names a column comment gives the column: "Gross merchandise value; GMV" → both; a sentence
 * ("Amount invoiced, before tax, in EUR") gives none, only the field's description.
 */
function commentSynonyms(comment: string, label: string): string[] {
  return comment
    .split(/[;/|]|\baka\b|\balso called\b/i)
    .map((p) => p.trim())
    .filter((p) => /^[A-Za-z][A-Za-z ]{1,40}$/.test(p) && p.split(/\s+/).length <= 4)
    .filter((p) => p.toLowerCase() !== label.toLowerCase())
}
