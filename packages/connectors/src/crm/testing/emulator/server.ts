/**
 * A protocol-faithful Salesforce emulator on loopback, for tests and the bench: the OAuth token
 * endpoint, REST query/queryMore/queryAll, describe, updated/deleted, sObject Collections, Bulk API
 * 2.0 query and ingest jobs, `Sforce-Limit-Info`, and fault injection. jsforce talks to it as to
 * Salesforce (instance URL = this server).
 */
import { randomBytes } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { parse } from 'csv-parse/sync'
import { stringify } from 'csv-stringify/sync'
import { type ConnectedApp, issueToken, type Session } from './auth.ts'
import { ORG_SCHEMA, READ_ONLY_FIELDS } from './schema.ts'
import { runSoql } from './soql.ts'
import { OrgStore, SfApiError, type SRecord, sfDateTime, type Value } from './store.ts'

export type FaultKind = 'server-error' | 'expired-session' | 'limit-exceeded' | 'slow' | 'reset'

export interface Fault {
  kind: FaultKind
  /** Which requests (method and path, e.g. `GET /services/data/v59.0/jobs/query/…/results`). */
  match: RegExp
  /** How many matching requests it hits (default 1). */
  times?: number
  /** For `slow`: the delay. */
  delayMs?: number
}

interface QueryJob {
  id: string
  object: string
  operation: 'query' | 'queryAll'
  state: 'UploadComplete' | 'InProgress' | 'JobComplete' | 'Aborted' | 'Failed'
  polls: number
  createdDate: string
  columns: string[]
  rows: Value[][]
}

interface IngestJob {
  id: string
  object: string
  operation: string
  state: 'Open' | 'UploadComplete' | 'InProgress' | 'JobComplete' | 'Aborted' | 'Failed'
  createdDate: string
  csv: string[]
  successful: Record<string, string>[]
  failed: Record<string, string>[]
}

export interface EmulatorOptions {
  app: ConnectedApp
  /** Daily API allowance reported in Sforce-Limit-Info (default 15000). */
  apiLimit?: number
  /** Polls a Bulk query job stays InProgress before JobComplete (default 1). */
  bulkPolls?: number
}

export interface SalesforceEmulator {
  url: string
  store: OrgStore
  /** API calls counted so far (what `api-usage` reports); settable to simulate a busy org. */
  usage: { used: number; limit: number }
  /** Requests served, by `METHOD path` (no query), for assertions. */
  requests: string[]
  fault(fault: Fault): void
  /** Expire every session now: the next call with an old token gets 401 INVALID_SESSION_ID. */
  expireSessions(): void
  close(): Promise<void>
}

const VERSIONED = /^\/services\/data\/v(\d+\.\d)(\/.*)$/

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const c of req) chunks.push(c as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

/** Nest relationship columns as the REST API does: `{ Account_vod__r: { External_ID_vod__c } }`. */
function restRecord(
  object: string,
  version: string,
  row: SRecord,
  columns: { name: string; path: string[] }[],
) {
  const out: Record<string, unknown> = {
    attributes: { type: object, url: `/services/data/v${version}/sobjects/${object}/${row.__id}` },
  }
  for (const c of columns) {
    let node = out
    for (const rel of c.path.slice(0, -1)) {
      node[rel] ??= { attributes: { type: rel } }
      node = node[rel] as Record<string, unknown>
    }
    node[c.path[c.path.length - 1] as string] = row[c.name] ?? null
  }
  return out
}

const csvValue = (v: Value): string => (v === null ? '' : String(v))

/** Coerce a CSV or JSON value to a field's type for storage. */
function typed(object: string, field: string, v: unknown): Value {
  const def = ORG_SCHEMA[object]?.fields[field]
  if (!def)
    throw new SfApiError(400, 'INVALID_FIELD', `No such column '${field}' on sobject of type ${object}`, [
      field,
    ])
  if (READ_ONLY_FIELDS.has(field))
    throw new SfApiError(400, 'INVALID_FIELD_FOR_INSERT_UPDATE', `Unable to create/update fields: ${field}`, [
      field,
    ])
  if (v === null || v === undefined || v === '' || v === '#N/A') return null
  if (def.type === 'boolean') return v === true || v === 'true'
  if (def.type === 'int' || def.type === 'double' || def.type === 'currency') return Number(v)
  return String(v)
}

export async function startSalesforceEmulator(options: EmulatorOptions): Promise<SalesforceEmulator> {
  const store = new OrgStore()
  const sessions = new Map<string, Session>()
  const faults: (Fault & { left: number })[] = []
  const cursors = new Map<
    string,
    { object: string; version: string; rows: SRecord[]; columns: { name: string; path: string[] }[] }
  >()
  const queryJobs = new Map<string, QueryJob>()
  const ingestJobs = new Map<string, IngestJob>()
  const usage = { used: 0, limit: options.apiLimit ?? 15_000 }
  const requests: string[] = []
  let url = ''

  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    const text = typeof body === 'string' ? body : JSON.stringify(body)
    res.writeHead(status, {
      'content-type': typeof body === 'string' ? 'text/csv' : 'application/json;charset=UTF-8',
      'content-length': String(Buffer.byteLength(text)),
      ...headers,
    })
    res.end(text)
  }

  const tokenOf = (req: IncomingMessage) => /^Bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1]

  async function data(req: IncomingMessage, res: ServerResponse, version: string, path: string, u: URL) {
    const method = req.method ?? 'GET'
    const limitHeader = { 'Sforce-Limit-Info': `api-usage=${usage.used}/${usage.limit}` }
    const json = (status: number, body: unknown, extra: Record<string, string> = {}) =>
      send(res, status, body, { ...limitHeader, ...extra })
    let m: string[] = []
    const hit = (re: RegExp) => {
      m = re.exec(path) ?? []
      return m.length > 0
    }
    if (method === 'GET' && (path === '/query' || path === '/queryAll')) {
      const soql = u.searchParams.get('q') ?? ''
      const result = runSoql(store, soql)
      const size = Number(
        /batchSize=(\d+)/.exec(String(req.headers['sforce-query-options'] ?? ''))?.[1] ?? 2000,
      )
      return json(
        200,
        page(result.object, version, result.rows, result.columns, 0, Math.min(Math.max(size, 200), 2000)),
      )
    }
    if (method === 'GET' && hit(/^\/query\/(01g[0-9A-Za-z]+)-(\d+)$/)) {
      const cursor = cursors.get(m[1] as string)
      if (!cursor) throw new SfApiError(400, 'INVALID_QUERY_LOCATOR', 'invalid query locator')
      const at = Number(m[2])
      return json(200, page(cursor.object, cursor.version, cursor.rows, cursor.columns, at, 2000, m[1]))
    }
    if (method === 'GET' && hit(/^\/sobjects\/(\w+)\/describe$/)) {
      const def = store.def(m[1] as string)
      return json(200, {
        name: m[1],
        keyPrefix: def.keyPrefix,
        queryable: true,
        updateable: true,
        fields: Object.entries(def.fields).map(([name, f]) => ({
          name,
          type: f.type,
          referenceTo: f.referenceTo ? [f.referenceTo] : [],
          relationshipName: f.relationshipName ?? null,
          updateable: !READ_ONLY_FIELDS.has(name),
          nillable: name !== 'Id',
        })),
      })
    }
    if (method === 'GET' && hit(/^\/sobjects\/(\w+)\/(updated|deleted)\/?$/)) {
      const object = m[1] as string
      const start = Date.parse(u.searchParams.get('start') ?? '')
      const end = Date.parse(u.searchParams.get('end') ?? '')
      if (Number.isNaN(start) || Number.isNaN(end) || end < start)
        throw new SfApiError(400, 'INVALID_REPLICATION_DATE', 'start and end must be dates, start before end')
      const from = Math.floor(start / 60_000) * 60_000
      const to = Math.floor(end / 60_000) * 60_000 + 59_999
      if (m[2] === 'deleted') {
        const log = store.deleted.get(object) ?? []
        store.def(object)
        return json(200, {
          deletedRecords: log
            .filter((d) => d.at >= from && d.at <= to)
            .map(({ id, deletedDate }) => ({ id, deletedDate })),
          earliestDateAvailable: sfDateTime(log[0]?.at ?? Date.now()),
          latestDateCovered: sfDateTime(Math.min(to, Date.now())),
        })
      }
      const ids = [...store.table(object).values()]
        .filter((r) => {
          const t = Date.parse(String(r.SystemModstamp))
          return t >= from && t <= to
        })
        .map((r) => r.Id)
      return json(200, { ids, latestDateCovered: sfDateTime(Math.min(to, Date.now())) })
    }
    if (method === 'PATCH' && path === '/composite/sobjects') {
      const body = JSON.parse(await readBody(req)) as {
        allOrNone?: boolean
        records?: Record<string, unknown>[]
      }
      const records = body.records ?? []
      if (records.length > 200)
        throw new SfApiError(400, 'EXCEEDED_ID_LIMIT', 'record limit exceeded: 200 records per call')
      const results = records.map((r) => {
        try {
          const type = (r.attributes as { type?: string } | undefined)?.type ?? ''
          const id = String(r.id ?? r.Id ?? '')
          const values: SRecord = {}
          for (const [k, v] of Object.entries(r))
            if (k !== 'attributes' && k !== 'id' && k !== 'Id') values[k] = typed(type, k, v)
          if (!store.table(type).has(id)) throw new SfApiError(404, 'ENTITY_IS_DELETED', 'entity is deleted')
          store.update(type, id, values)
          return { id, success: true, errors: [] }
        } catch (err) {
          const e = err instanceof SfApiError ? err : new SfApiError(400, 'UNKNOWN_EXCEPTION', String(err))
          return {
            id: r.id ?? null,
            success: false,
            errors: [{ statusCode: e.errorCode, message: e.message, fields: e.fields }],
          }
        }
      })
      return json(200, results)
    }
    if (path === '/jobs/query' && method === 'POST') {
      const body = JSON.parse(await readBody(req)) as { operation?: string; query?: string }
      if (body.operation !== 'query' && body.operation !== 'queryAll')
        throw new SfApiError(400, 'INVALIDJOB', 'operation must be query or queryAll')
      const result = runSoql(store, body.query ?? '')
      const job: QueryJob = {
        id: `750${randomBytes(8).toString('hex').slice(0, 12).toUpperCase()}AAA`,
        object: result.object,
        operation: body.operation,
        state: 'UploadComplete',
        polls: 0,
        createdDate: sfDateTime(Date.now()),
        columns: result.columns.map((c) => c.name),
        rows: result.rows.map((r) => result.columns.map((c) => r[c.name] ?? null)),
      }
      queryJobs.set(job.id, job)
      return json(200, jobInfo(job))
    }
    if (hit(/^\/jobs\/query\/(750\w+)(\/results)?$/)) {
      const job = queryJobs.get(m[1] as string)
      if (!job) throw new SfApiError(404, 'NOT_FOUND', 'The requested resource does not exist')
      if (method === 'DELETE') {
        queryJobs.delete(job.id)
        res.writeHead(204, limitHeader)
        return res.end()
      }
      if (method === 'PATCH') {
        job.state = 'Aborted'
        return json(200, jobInfo(job))
      }
      if (!m[2]) {
        if (job.state === 'UploadComplete' || job.state === 'InProgress') {
          job.polls += 1
          job.state = job.polls > (options.bulkPolls ?? 1) ? 'JobComplete' : 'InProgress'
        }
        return json(200, jobInfo(job))
      }
      if (job.state !== 'JobComplete') throw new SfApiError(400, 'INVALIDJOBSTATE', 'job is not complete')
      const offset = u.searchParams.get('locator')
        ? Number(Buffer.from(u.searchParams.get('locator') as string, 'base64url').toString())
        : 0
      if (!Number.isInteger(offset) || offset < 0 || offset > job.rows.length)
        throw new SfApiError(400, 'INVALID_LOCATOR', 'invalid locator')
      const max = Number(u.searchParams.get('maxRecords') ?? 50_000) || 50_000
      const slice = job.rows.slice(offset, offset + max)
      const next =
        offset + slice.length < job.rows.length
          ? Buffer.from(String(offset + slice.length)).toString('base64url')
          : 'null'
      const csv = stringify([job.columns, ...slice.map((r) => r.map(csvValue))], { record_delimiter: 'unix' })
      return send(res, 200, csv, {
        ...limitHeader,
        'content-type': 'text/csv',
        'Sforce-Locator': next,
        'Sforce-NumberOfRecords': String(slice.length),
      })
    }
    if (path === '/jobs/ingest' && method === 'POST') {
      const body = JSON.parse(await readBody(req)) as {
        object?: string
        operation?: string
        contentType?: string
      }
      store.def(body.object ?? '')
      if (body.operation !== 'update')
        throw new SfApiError(400, 'FEATURENOTENABLED', 'this emulator ingests updates only')
      const job: IngestJob = {
        id: `750${randomBytes(8).toString('hex').slice(0, 12).toUpperCase()}BAA`,
        object: body.object as string,
        operation: body.operation,
        state: 'Open',
        createdDate: sfDateTime(Date.now()),
        csv: [],
        successful: [],
        failed: [],
      }
      ingestJobs.set(job.id, job)
      return json(200, {
        ...ingestInfo(job),
        contentUrl: `services/data/v${version}/jobs/ingest/${job.id}/batches`,
      })
    }
    if (
      hit(/^\/jobs\/ingest\/(750\w+)(?:\/(batches|successfulResults|failedResults|unprocessedrecords))?\/?$/)
    ) {
      const job = ingestJobs.get(m[1] as string)
      if (!job) throw new SfApiError(404, 'NOT_FOUND', 'The requested resource does not exist')
      const sub = m[2]
      if (sub === 'batches' && method === 'PUT') {
        if (job.state !== 'Open') throw new SfApiError(400, 'INVALIDJOBSTATE', 'job is not open')
        job.csv.push(await readBody(req))
        res.writeHead(201, limitHeader)
        return res.end()
      }
      if (!sub && method === 'PATCH') {
        const body = JSON.parse(await readBody(req)) as { state?: string }
        if (body.state === 'UploadComplete' && job.state === 'Open') {
          job.state = 'UploadComplete'
          processIngest(job)
        } else if (body.state === 'Aborted') job.state = 'Aborted'
        return json(200, ingestInfo(job))
      }
      if (!sub && method === 'GET') return json(200, ingestInfo(job))
      if (!sub && method === 'DELETE') {
        ingestJobs.delete(job.id)
        res.writeHead(204, limitHeader)
        return res.end()
      }
      if (sub && sub !== 'batches' && method === 'GET') {
        const rows = sub === 'successfulResults' ? job.successful : sub === 'failedResults' ? job.failed : []
        const header = sub === 'successfulResults' ? ['sf__Id', 'sf__Created'] : ['sf__Id', 'sf__Error']
        const cols = [...header, ...Object.keys(rows[0] ?? {}).filter((k) => !header.includes(k))]
        return send(
          res,
          200,
          stringify([cols, ...rows.map((r) => cols.map((c) => r[c] ?? ''))], { record_delimiter: 'unix' }),
          limitHeader,
        )
      }
    }
    throw new SfApiError(404, 'NOT_FOUND', 'The requested resource does not exist')
  }

  function page(
    object: string,
    version: string,
    rows: SRecord[],
    columns: { name: string; path: string[] }[],
    at: number,
    size: number,
    cursorId?: string,
  ) {
    const slice = rows.slice(at, at + size)
    const done = at + slice.length >= rows.length
    let id = cursorId
    if (!done && !id) {
      id = `01g${randomBytes(6).toString('hex').toUpperCase()}`
      cursors.set(id, { object, version, rows, columns })
    }
    return {
      totalSize: rows.length,
      done,
      ...(done ? {} : { nextRecordsUrl: `/services/data/v${version}/query/${id}-${at + slice.length}` }),
      records: slice.map((r) => restRecord(object, version, r, columns)),
    }
  }

  /** The fields Bulk 2.0 returns for every job, query or ingest. */
  function jobFields(job: QueryJob | IngestJob) {
    return {
      id: job.id,
      operation: job.operation,
      object: job.object,
      createdById: '005000000000001AAA',
      createdDate: job.createdDate,
      systemModstamp: job.createdDate,
      state: job.state,
      concurrencyMode: 'Parallel',
      contentType: 'CSV',
      apiVersion: 59.0,
      lineEnding: 'LF',
      columnDelimiter: 'COMMA',
    }
  }

  function jobInfo(job: QueryJob) {
    return {
      ...jobFields(job),
      ...(job.state === 'JobComplete'
        ? { numberRecordsProcessed: job.rows.length, retries: 0, totalProcessingTime: 1 }
        : {}),
    }
  }

  function ingestInfo(job: IngestJob) {
    return {
      ...jobFields(job),
      numberRecordsProcessed: job.successful.length + job.failed.length,
      numberRecordsFailed: job.failed.length,
    }
  }

  function processIngest(job: IngestJob) {
    job.state = 'InProgress'
    for (const chunk of job.csv) {
      const rows = parse(chunk, { columns: true, skip_empty_lines: true }) as Record<string, string>[]
      for (const row of rows) {
        try {
          const id = row.Id ?? ''
          if (!store.table(job.object).has(id))
            throw new SfApiError(404, 'ENTITY_IS_DELETED', 'entity is deleted')
          const values: SRecord = {}
          for (const [k, v] of Object.entries(row)) if (k !== 'Id') values[k] = typed(job.object, k, v)
          store.update(job.object, id, values)
          job.successful.push({ sf__Id: id, sf__Created: 'false', ...row })
        } catch (err) {
          const e = err as SfApiError
          job.failed.push({
            sf__Id: row.Id ?? '',
            sf__Error: `${e.errorCode ?? 'UNKNOWN_EXCEPTION'}:${e.message}`,
            ...row,
          })
        }
      }
    }
    job.state = 'JobComplete'
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const u = new URL(req.url ?? '/', url)
    const key = `${req.method} ${u.pathname}`
    requests.push(key)
    if (req.method === 'POST' && u.pathname === '/services/oauth2/token') {
      try {
        const form = new URLSearchParams(await readBody(req))
        return send(res, 200, await issueToken(options.app, form, url, url, sessions))
      } catch (err) {
        const e = err as SfApiError & { oauth?: Record<string, string> }
        return send(res, 400, e.oauth ?? { error: 'invalid_request', error_description: 'bad request' })
      }
    }
    const v = VERSIONED.exec(u.pathname)
    if (!v)
      return send(res, 404, [{ errorCode: 'NOT_FOUND', message: 'The requested resource does not exist' }])
    const fault = faults.find((f) => f.left > 0 && f.match.test(key))
    if (fault) fault.left -= 1
    const session = sessions.get(tokenOf(req) ?? '')
    if (fault?.kind === 'expired-session' && session) session.expired = true
    if (!session || session.expired)
      return send(res, 401, [{ message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' }])
    usage.used += 1
    if (fault?.kind === 'server-error')
      return send(res, 500, [{ message: 'An unexpected error occurred', errorCode: 'UNKNOWN_EXCEPTION' }])
    if (fault?.kind === 'limit-exceeded')
      return send(res, 403, [
        { message: 'TotalRequests Limit exceeded.', errorCode: 'REQUEST_LIMIT_EXCEEDED' },
      ])
    if (fault?.kind === 'slow') await new Promise((r) => setTimeout(r, fault.delayMs ?? 1000))
    if (fault?.kind === 'reset') {
      // Headers and part of a body, then the connection drops: a reset mid-page.
      res.writeHead(200, { 'content-type': 'text/csv', 'content-length': '100000' })
      res.write('Id,Name\n001000000000001AAA,partial')
      setTimeout(() => res.socket?.destroy(), 20)
      return
    }
    try {
      await data(req, res, v[1] as string, v[2] as string, u)
    } catch (err) {
      const e =
        err instanceof SfApiError ? err : new SfApiError(500, 'UNKNOWN_EXCEPTION', (err as Error).message)
      send(res, e.status, e.body(), { 'Sforce-Limit-Info': `api-usage=${usage.used}/${usage.limit}` })
    }
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) send(res, 500, [{ errorCode: 'UNKNOWN_EXCEPTION', message: 'emulator failure' }])
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    url,
    store,
    usage,
    requests,
    fault: (f) => faults.push({ ...f, left: f.times ?? 1 }),
    expireSessions() {
      for (const s of sessions.values()) s.expired = true
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections()
        server.close(() => r())
      }),
  }
}
