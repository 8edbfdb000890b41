import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { dirname, extname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parse as parseYaml } from 'yaml'
import { z } from 'zod'
import { HubError } from '../../errors.ts'
import { RoleSchema } from '../../principal.ts'
import { AggregationSchema, TimeGrainSchema } from '../plan.ts'

/**
 * The optional overrides file that refines an inferred model: labels, synonyms, default aggregation,
 * derived measures, hidden columns, default time dimension, entity label columns and row policies.
 * YAML or JSON; validated here, and checked against the schema by `inferModel`.
 */

const phrase = z.string().trim().min(1)
const ValueSchema = z.union([z.string(), z.number(), z.boolean()])

export const FieldOverrideSchema = z
  .object({
    label: phrase.optional(),
    synonyms: z.array(phrase).optional(),
    aggregation: AggregationSchema.optional(),
    kind: z.enum(['key', 'measure', 'dimension', 'time']).optional(),
    hidden: z.boolean().optional(),
    /** Roles that may see the column; others get UNKNOWN_FIELD. */
    roles: z.array(RoleSchema).optional(),
    /** Native grain of a time column whose values are already period markers (week_ending → week). */
    grain: TimeGrainSchema.optional(),
    /** Phrase → stored value ("face to face" → "In-person", "competitor" → false). */
    values: z.record(phrase, ValueSchema).optional(),
    /** Index the column's distinct values (default: low-cardinality text columns). */
    indexed: z.boolean().optional(),
    /** Unit of a measure (guessed from its name when inferred). */
    unit: z.enum(['currency', 'percent', 'weight', 'duration', 'distance']).optional(),
  })
  .strict()

export const DerivedMeasureSchema = z
  .object({
    label: phrase.optional(),
    synonyms: z.array(phrase).optional(),
    /** `a - b`, `a / b`, … over measures of the same dataset. */
    expression: z
      .string()
      .regex(/^\s*[A-Za-z_]\w*\s*[-+*/]\s*[A-Za-z_]\w*\s*$/, 'must be "<measure> <+|-|*|/> <measure>"'),
    /** aggregate (default): SUM(a) - SUM(b); row: SUM(a * b). */
    level: z.enum(['aggregate', 'row']).optional(),
    hidden: z.boolean().optional(),
    roles: z.array(RoleSchema).optional(),
  })
  .strict()

export const DatasetOverrideSchema = z
  .object({
    label: phrase.optional(),
    pluralLabel: phrase.optional(),
    synonyms: z.array(phrase).optional(),
    verbs: z.array(phrase).optional(),
    hidden: z.boolean().optional(),
    /** Shared reference data bound principals may read whole when no row rule reaches it (else withheld). */
    unrestricted: z.boolean().optional(),
    /** The column whose value is a row's market (competitive set): "market share" = share within it. */
    market: z.string().optional(),
    labelColumns: z.array(z.string()).optional(),
    defaultTimeDimension: z.string().optional(),
    fields: z.record(z.string(), FieldOverrideSchema).optional(),
    derived: z
      .record(z.string().regex(/^[A-Za-z_]\w*$/, 'must be an identifier'), DerivedMeasureSchema)
      .optional(),
  })
  .strict()

export const RowPolicyRuleSchema = z
  .object({
    roles: z.array(RoleSchema).optional(),
    dataset: z.string(),
    column: z.string(),
    in: z.object({ attribute: z.string().min(1), required: z.boolean().optional() }).strict(),
  })
  .strict()

export const OverridesSchema = z
  .object({
    name: z.string().optional(),
    description: z.string().optional(),
    /** `dataset.field` ranked by when a question names no measure ("top 10 prescribers"). */
    defaultMeasure: z
      .string()
      .regex(/^\w+\.\w+$/, 'must be "dataset.field"')
      .optional(),
    datasets: z.record(z.string(), DatasetOverrideSchema).default({}),
    rowPolicies: z.array(RowPolicyRuleSchema).default([]),
    /** Relationships the database does not declare: `orders.customer_id` → `customers.id` (many-to-one). */
    relationships: z
      .array(
        z
          .object({
            from: z.string().regex(/^\w+\.\w+$/, 'must be "table.column"'),
            to: z.string().regex(/^\w+\.\w+$/, 'must be "table.column"'),
          })
          .strict(),
      )
      .default([]),
    /** false: use only declared and listed relationships, none inferred from names and values. */
    inferRelationships: z.boolean().optional(),
  })
  .strict()
export type Overrides = z.infer<typeof OverridesSchema>
export type DatasetOverride = z.infer<typeof DatasetOverrideSchema>
export type FieldOverride = z.infer<typeof FieldOverrideSchema>

const BUNDLED_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../../models')

/** Validate parsed overrides; errors name the bad path (`datasets.hcps.fields.trx.aggregation: …`). */
export function parseOverrides(data: unknown, source = 'overrides'): Overrides {
  const result = OverridesSchema.safeParse(data ?? {})
  if (result.success) return result.data
  const problems = result.error.issues
    .slice(0, 8)
    .map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`)
  throw new HubError('CONFIG_INVALID', `Invalid model overrides in ${source}: ${problems.join('; ')}`, {
    details: { problems },
  })
}

/** Resolve a bundled name (`pharma`) or a YAML/JSON path to a file. */
export function resolveOverridesPath(nameOrPath: string): string {
  if (/^[a-z][a-z0-9-]*$/i.test(nameOrPath) && !extname(nameOrPath)) {
    for (const ext of ['.yaml', '.yml', '.json']) {
      const p = resolve(BUNDLED_DIR, `${nameOrPath}${ext}`)
      if (existsSync(p)) return p
    }
  }
  const p = resolve(nameOrPath)
  if (existsSync(p)) return p
  throw new HubError('CONFIG_INVALID', `No model overrides named '${nameOrPath}' (not bundled, not a file)`)
}

/** Load overrides by bundled name (`pharma`) or path (`./models/x.yaml`, `x.json`). */
export async function loadOverrides(nameOrPath: string): Promise<Overrides> {
  const path = resolveOverridesPath(nameOrPath)
  const text = await readFile(path, 'utf8')
  let data: unknown
  try {
    data = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text)
  } catch (cause) {
    throw new HubError('CONFIG_INVALID', `Model overrides ${nameOrPath} are not valid YAML/JSON`, { cause })
  }
  return parseOverrides(data, nameOrPath)
}
