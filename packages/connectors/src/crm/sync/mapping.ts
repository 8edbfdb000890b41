import { readFileSync } from 'node:fs'
import { HubError } from '@nl2q/core'
import { parse as parseYaml } from 'yaml'
import { z } from 'zod'

const IDENT = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/
const SF_FIELD = /^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*){0,4}$/

export const ValueTypeSchema = z.enum(['string', 'number', 'integer', 'boolean', 'date'])

/** A column's source: a field path (`Account_vod__r.External_ID_vod__c`), optionally typed. */
export const FieldSourceSchema = z.union([
  z.string().regex(SF_FIELD, 'a Salesforce field path'),
  z
    .object({
      field: z.string().regex(SF_FIELD, 'a Salesforce field path'),
      type: ValueTypeSchema.default('string'),
    })
    .strict(),
])

export const ObjectMappingSchema = z
  .object({
    /** Target table in the tenant's data. */
    table: z.string().regex(IDENT, 'a table name'),
    /** The target column that identifies a row (upserts conflict on it; deletes match it). */
    key: z.string().regex(IDENT, 'a column name'),
    /** `upsert` writes whole rows; `update` only sets the mapped columns of rows that exist. */
    mode: z.enum(['upsert', 'update']).default('upsert'),
    /** Extra SOQL condition (e.g. `IsPersonAccount = true`). */
    where: z.string().max(500).optional(),
    fields: z.record(z.string().regex(IDENT, 'a column name'), FieldSourceSchema),
  })
  .strict()
  .superRefine((m, ctx) => {
    if (!(m.key in m.fields))
      ctx.addIssue({
        code: 'custom',
        path: ['key'],
        message: `key '${m.key}' is not one of the mapped fields`,
      })
  })

export const MappingSchema = z
  .object({
    version: z.literal(1).default(1),
    /** Objects in sync order (parents first); `false` drops an object of the default mapping. */
    objects: z.record(
      z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,79}$/, 'an sObject name'),
      z.union([z.literal(false), z.record(z.string(), z.unknown())]),
    ),
  })
  .strict()

export type ObjectMapping = z.output<typeof ObjectMappingSchema>
export type ValueType = z.output<typeof ValueTypeSchema>
export interface Mapping {
  objects: Record<string, ObjectMapping>
}

const t = (field: string, type: ValueType) => ({ field, type })

/** The default Veeva CRM mapping onto the pharma schema; parents before children. */
export const DEFAULT_MAPPING: Mapping = {
  objects: {
    Territory2: {
      table: 'territories',
      key: 'territory_id',
      mode: 'upsert',
      fields: {
        territory_id: 'External_ID__c',
        territory_name: 'Name',
        region: 'Region__c',
        district: 'District__c',
      },
    },
    User: {
      table: 'reps',
      key: 'rep_id',
      mode: 'upsert',
      where: 'EmployeeNumber != null',
      fields: {
        rep_id: 'EmployeeNumber',
        rep_name: 'Name',
        territory_id: 'Primary_Territory__r.External_ID__c',
        hire_date: t('Hire_Date__c', 'date'),
        email: 'Email',
      },
    },
    Product_vod__c: {
      table: 'products',
      key: 'product_id',
      mode: 'upsert',
      fields: {
        product_id: 'External_ID_vod__c',
        product_name: 'Name',
        manufacturer: 'Manufacturer_vod__c',
        therapeutic_area: 'Therapeutic_Area_vod__c',
        is_company_product: t('Company_Product_vod__c', 'boolean'),
        launch_date: t('Launch_Date__c', 'date'),
        list_price: t('List_Price__c', 'number'),
      },
    },
    Account: {
      table: 'hcps',
      key: 'crm_account_id',
      mode: 'upsert',
      where: 'IsPersonAccount = true',
      fields: {
        crm_account_id: 'Id',
        hcp_id: 'External_ID_vod__c',
        npi: 'NPI_vod__c',
        first_name: 'FirstName',
        last_name: 'LastName',
        specialty: 'Specialty_1_vod__c',
        city: 'PersonMailingCity',
        state: 'PersonMailingState',
        territory_id: 'Territory_vod__r.External_ID__c',
        segment: 'Segment__c',
      },
    },
    ObjectTerritory2Association: {
      table: 'hcps',
      key: 'crm_account_id',
      mode: 'update',
      fields: { crm_account_id: 'ObjectId', territory_id: 'Territory2.External_ID__c' },
    },
    Call2_vod__c: {
      table: 'calls',
      key: 'call_id',
      mode: 'upsert',
      fields: {
        call_id: 'Id',
        hcp_id: 'Account_vod__r.External_ID_vod__c',
        rep_id: 'Owner.EmployeeNumber',
        product_id: 'Product_vod__r.External_ID_vod__c',
        call_date: t('Call_Date_vod__c', 'date'),
        channel: 'Call_Channel_vod__c',
        status: 'Status_vod__c',
        duration_minutes: t('Duration_vod__c', 'integer'),
      },
    },
  },
}

/** Validate a mapping document; errors name the offending path (`objects.Account.tabel`). */
export function parseMapping(doc: unknown, source = 'mapping'): Mapping {
  const problems: string[] = []
  const report = (prefix: string[], issues: z.core.$ZodIssue[]) => {
    for (const i of issues) {
      const keys = 'keys' in i && Array.isArray(i.keys) ? ` (${(i.keys as string[]).join(', ')})` : ''
      problems.push(`${[...prefix, ...i.path.map(String)].join('.')}: ${i.message}${keys}`)
    }
  }
  const outer = MappingSchema.safeParse(doc)
  const objects: Record<string, ObjectMapping> = { ...DEFAULT_MAPPING.objects }
  if (!outer.success) report([], outer.error.issues)
  else
    for (const [name, value] of Object.entries(outer.data.objects)) {
      if (value === false) {
        delete objects[name]
        continue
      }
      // Each object on its own, so an unknown field is named with its full path (objects.Account.tabel).
      const parsed = ObjectMappingSchema.safeParse(value)
      if (parsed.success) objects[name] = parsed.data
      else report(['objects', name], parsed.error.issues)
    }
  if (problems.length > 0)
    throw new HubError('CONFIG_INVALID', `Invalid CRM ${source} — ${problems.join('; ')}`, {
      details: { problems },
    })
  return { objects }
}

/** The default mapping, or the default overridden by a YAML file. */
export function loadMapping(file: string | undefined): Mapping {
  if (!file) return DEFAULT_MAPPING
  let doc: unknown
  try {
    doc = parseYaml(readFileSync(file, 'utf8'))
  } catch (cause) {
    throw new HubError('CONFIG_INVALID', 'The CRM mapping file cannot be read as YAML', { cause })
  }
  return parseMapping(doc, 'mapping file')
}

/** Column → [source path, type] for one object mapping. */
export function columnsOf(m: ObjectMapping): { column: string; path: string; type: ValueType }[] {
  return Object.entries(m.fields).map(([column, src]) =>
    typeof src === 'string'
      ? { column, path: src, type: 'string' }
      : { column, path: src.field, type: src.type },
  )
}

/** A value from the API (JSON) or a Bulk CSV cell, as the target column stores it. */
export function convert(value: unknown, type: ValueType): string | number | null {
  if (value === null || value === undefined || value === '') return null
  switch (type) {
    case 'boolean':
      return value === true || value === 'true' || value === 1 || value === '1' ? 1 : 0
    case 'number':
    case 'integer': {
      const n = Number(value)
      if (!Number.isFinite(n)) throw new Error(`'${String(value)}' is not a number`)
      return type === 'integer' ? Math.trunc(n) : n
    }
    case 'date': {
      const s = String(value)
      if (!/^\d{4}-\d{2}-\d{2}/.test(s)) throw new Error(`'${s}' is not a date`)
      return s.slice(0, 10)
    }
    default:
      return String(value)
  }
}
