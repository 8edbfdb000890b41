import type { AuditEventInput } from './event-input.ts'

export type AuditOutcome = AuditEventInput['outcome']

/** What a caller hands to `append`: the event plus who/where. The log adds time, seq and hashes. */
export interface AuditAppendInput extends AuditEventInput {
  subject?: string | null
  credentialId?: string | null
  requestId?: string | null
  clientIp?: string | null
  /** The connector or route (`api`, `mcp`, `odata`, `cli`, …). */
  channel?: string | null
}

/** The hashed content of one event; field order is irrelevant (canonical JSON sorts keys). */
export interface AuditRecord {
  tenant: string
  seq: number
  time: string
  subject: string | null
  credentialId: string | null
  action: string
  resource: string | null
  requestId: string | null
  clientIp: string | null
  channel: string | null
  outcome: AuditOutcome
  rowCount: number | null
  durationMs: number | null
  questionHash: string | null
  planHash: string | null
  sqlHash: string | null
  detail: Record<string, unknown> | null
}

export interface AuditEvent extends AuditRecord {
  prevHash: string
  hash: string
}

/** An event ready to be chained: normalised exactly as it will be stored, minus tenant and seq. */
export type PreparedEvent = Omit<AuditRecord, 'tenant' | 'seq'>

const MAX_DETAIL_CHARS = 16_384
const OUTCOMES: readonly AuditOutcome[] = ['success', 'failure', 'denied', 'invalid', 'error', 'timeout']

/** Strings as the database will return them: well-formed UTF-8, cut to the column width. */
function text(value: string | null | undefined, max: number): string | null {
  if (value === null || value === undefined) return null
  const cut = String(value).slice(0, max)
  // Only a string with a surrogate can be ill-formed; the others are spared the round trip.
  return SURROGATE.test(cut) ? Buffer.from(cut, 'utf8').toString('utf8') : cut
}

const SURROGATE = /[\uD800-\uDFFF]/

function int(value: number | null | undefined): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? Math.round(value) : null
}

function detailOf(detail: Record<string, unknown> | null | undefined): Record<string, unknown> | null {
  if (detail === null || detail === undefined) return null
  // A frozen detail is a constant its caller shares between events (a cached answer's): it is
  // normalised once.
  if (Object.isFrozen(detail)) {
    let done = normalisedDetails.get(detail)
    if (done === undefined) {
      done = normaliseDetail(detail)
      normalisedDetails.set(detail, done)
    }
    return done
  }
  return normaliseDetail(detail)
}

const normalisedDetails = new WeakMap<object, Record<string, unknown> | null>()

function normaliseDetail(detail: Record<string, unknown>): Record<string, unknown> | null {
  const json = JSON.stringify(detail)
  if (json === undefined) return null
  if (json.length > MAX_DETAIL_CHARS) return { truncated: true, chars: json.length }
  return JSON.parse(json) as Record<string, unknown>
}

/** Normalise an input so that the hash computed now equals the hash recomputed from the stored row. */
export function prepareEvent(input: AuditAppendInput, time: Date = new Date()): PreparedEvent {
  return {
    time: time.toISOString(),
    subject: text(input.subject, 255),
    credentialId: text(input.credentialId, 128),
    action: text(input.action, 64) ?? 'unknown',
    resource: text(input.resource, 1024),
    requestId: text(input.requestId, 128),
    clientIp: text(input.clientIp, 64),
    channel: text(input.channel, 32),
    outcome: OUTCOMES.includes(input.outcome) ? input.outcome : 'error',
    rowCount: int(input.rowCount),
    durationMs: int(input.durationMs),
    questionHash: text(input.questionHash, 128),
    planHash: text(input.planHash, 128),
    sqlHash: text(input.sqlHash, 128),
    detail: detailOf(input.detail),
  }
}

export interface AuditRow {
  tenant: string
  seq: number | string
  time: string
  subject: string | null
  credential_id: string | null
  action: string
  resource: string | null
  request_id: string | null
  client_ip: string | null
  channel: string | null
  outcome: string
  row_count: number | string | null
  duration_ms: number | string | null
  question_hash: string | null
  plan_hash: string | null
  sql_hash: string | null
  detail: string | null
  prev_hash: string
  hash: string
}

export function toRow(record: AuditRecord, prevHash: string, hash: string): AuditRow {
  return {
    tenant: record.tenant,
    seq: record.seq,
    time: record.time,
    subject: record.subject,
    credential_id: record.credentialId,
    action: record.action,
    resource: record.resource,
    request_id: record.requestId,
    client_ip: record.clientIp,
    channel: record.channel,
    outcome: record.outcome,
    row_count: record.rowCount,
    duration_ms: record.durationMs,
    question_hash: record.questionHash,
    plan_hash: record.planHash,
    sql_hash: record.sqlHash,
    detail: record.detail === null ? null : JSON.stringify(record.detail),
    prev_hash: prevHash,
    hash,
  }
}

const num = (v: number | string | null): number | null => (v === null ? null : Number(v))

/** Read a stored row back; an unparseable `detail` is kept as a string so verify reports the event. */
export function fromRow(row: AuditRow): AuditEvent {
  let detail: Record<string, unknown> | null = null
  if (row.detail !== null) {
    try {
      detail = JSON.parse(row.detail) as Record<string, unknown>
    } catch {
      detail = { unparseable: row.detail }
    }
  }
  return {
    tenant: row.tenant,
    seq: Number(row.seq),
    time: row.time,
    subject: row.subject,
    credentialId: row.credential_id,
    action: row.action,
    resource: row.resource,
    requestId: row.request_id,
    clientIp: row.client_ip,
    channel: row.channel,
    outcome: row.outcome as AuditOutcome,
    rowCount: num(row.row_count),
    durationMs: num(row.duration_ms),
    questionHash: row.question_hash,
    planHash: row.plan_hash,
    sqlHash: row.sql_hash,
    detail,
    prevHash: row.prev_hash,
    hash: row.hash,
  }
}

/** The hashed part of a stored event. */
export function recordOf(event: AuditEvent): AuditRecord {
  const { prevHash: _p, hash: _h, ...record } = event
  return record
}
