import { type ObjectDef, ORG_SCHEMA } from './schema.ts'

export type Value = string | number | boolean | null
export type SRecord = Record<string, Value>

/** `2024-05-01T10:00:00.000+0000`, the way the REST API renders datetimes. */
export const sfDateTime = (ms: number): string => new Date(ms).toISOString().replace('Z', '+0000')

/**
 * The org's data: records per object, a delete log (what `getDeleted` reads) and a clock that
 * stamps every write with a strictly increasing SystemModstamp.
 */
export class OrgStore {
  readonly records = new Map<string, Map<string, SRecord>>()
  readonly deleted = new Map<string, { id: string; deletedDate: string; at: number }[]>()
  private seq = 0
  private lastStamp = 0

  constructor() {
    for (const name of Object.keys(ORG_SCHEMA)) {
      this.records.set(name, new Map())
      this.deleted.set(name, [])
    }
  }

  def(object: string): ObjectDef {
    const def = ORG_SCHEMA[object]
    if (!def) throw new SfApiError(404, 'NOT_FOUND', `The requested resource does not exist: ${object}`)
    return def
  }

  table(object: string): Map<string, SRecord> {
    this.def(object)
    return this.records.get(object) as Map<string, SRecord>
  }

  /** A write's stamp: now, or 1 ms after the previous one when the clock has not moved. */
  stamp(): number {
    this.lastStamp = Math.max(Date.now(), this.lastStamp + 1)
    return this.lastStamp
  }

  newId(object: string): string {
    this.seq += 1
    const body = this.seq.toString(36).toUpperCase().padStart(12, '0')
    return `${this.def(object).keyPrefix}${body}AAA`
  }

  insert(object: string, values: SRecord, stampMs = this.stamp()): SRecord {
    const def = this.def(object)
    const id = typeof values.Id === 'string' ? values.Id : this.newId(object)
    const record: SRecord = {}
    for (const name of Object.keys(def.fields)) record[name] = null
    Object.assign(record, values, {
      Id: id,
      IsDeleted: false,
      CreatedDate: sfDateTime(stampMs),
      SystemModstamp: sfDateTime(stampMs),
      LastModifiedDate: sfDateTime(stampMs),
    })
    this.table(object).set(id, record)
    return record
  }

  update(object: string, id: string, values: SRecord): SRecord {
    const record = this.table(object).get(id)
    if (!record) throw new SfApiError(404, 'ENTITY_IS_DELETED', 'entity is deleted', [])
    const now = sfDateTime(this.stamp())
    Object.assign(record, values, { SystemModstamp: now, LastModifiedDate: now })
    return record
  }

  delete(object: string, id: string): void {
    if (!this.table(object).delete(id)) return
    const at = this.stamp()
    this.deleted.get(object)?.push({ id, deletedDate: sfDateTime(at), at })
  }
}

/** An API error as Salesforce renders it: `[{ message, errorCode, fields }]` with an HTTP status. */
export class SfApiError extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: string,
    message: string,
    readonly fields: string[] = [],
  ) {
    super(message)
  }
  body() {
    return [{ message: this.message, errorCode: this.errorCode, fields: this.fields }]
  }
}
