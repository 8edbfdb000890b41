import type { ConnectorState } from '@nl2q/core'
import { HubError } from '@nl2q/core'
import { parse } from 'csv-parse/sync'
import type { CrmConfig } from '../config.ts'
import type { ObjectMapping } from './mapping.ts'
import { selectSoql, toRow } from './records.ts'
import { addError, type ObjectReport, type RunReport } from './run-report.ts'
import { type SalesforceClient, sleep } from './salesforce-client.ts'
import type { TargetRow, WriteTarget } from './target.ts'

export interface Watermark {
  /** SystemModstamp up to which changes are in the target. */
  modstamp: string
  /** End of the last `deleted` window read. */
  deletedUntil: string
}

/** An interrupted full sync: the Bulk job and the locator of the next page not yet committed. */
interface FullProgress {
  jobId: string
  createdDate: string
  locator?: string
  rows: number
  total?: number
}

export interface SyncContext {
  client: SalesforceClient
  target: WriteTarget | undefined
  state: ConnectorState
  config: CrmConfig
  report: RunReport
  signal?: AbortSignal
  progress?: (done: number, total: number | undefined, message: string) => void
}

const wmKey = (object: string) => `watermark:${object}`
const fullKey = (object: string) => `full:${object}`
const idmapTable = (object: string) =>
  `idmap_${object
    .toLowerCase()
    .replace(/[^a-z0-9_]/g, '_')
    .slice(0, 55)}`
const iso = (ms: number) => new Date(ms).toISOString()

export async function watermarkOf(state: ConnectorState, object: string): Promise<Watermark | undefined> {
  return state.get<Watermark>(wmKey(object))
}

export async function fullInProgress(state: ConnectorState, object: string): Promise<boolean> {
  return (await state.get(fullKey(object))) !== undefined
}

/** Write converted records in batch_size transactions; bad records go to the report. */
async function writeRecords(
  ctx: SyncContext,
  object: string,
  m: ObjectMapping,
  records: Record<string, unknown>[],
  r: ObjectReport,
) {
  r.fetched += records.length
  const rows: TargetRow[] = []
  const ids = new Map<string, string>()
  for (const rec of records) {
    const c = toRow(m, rec)
    if (c.error || !c.row) {
      r.failed += 1
      addError(ctx.report, { object, id: c.id, message: c.error ?? 'unmapped' })
      continue
    }
    rows.push(c.row)
    ids.set(c.id, String(c.row[m.key]))
  }
  if (!ctx.target) {
    r.written += rows.length
    return
  }
  for (let i = 0; i < rows.length; i += ctx.config.batch_size) {
    const batch = rows.slice(i, i + ctx.config.batch_size)
    const { failed } = await ctx.target.write(m, batch)
    r.written += batch.length - failed.length
    r.failed += failed.length
    const byKey = new Map([...ids].map(([id, key]) => [key, id]))
    for (const f of failed)
      addError(ctx.report, { object, id: byKey.get(f.key) ?? f.key, message: f.message })
  }
  // Deletes name Salesforce Ids: remember which target key each Id wrote, unless the key is the Id.
  if (m.mode === 'upsert' && m.fields[m.key] !== 'Id') {
    const map = ctx.state.table<string>(idmapTable(object))
    for (const [id, key] of ids) await map.put(id, key)
  }
}

/** Full sync of one object through a Bulk API 2.0 query job, page by page, resumable. */
async function fullSync(ctx: SyncContext, object: string, m: ObjectMapping, r: ObjectReport) {
  const { client, state, config } = ctx
  let progress = ctx.report.dryRun ? undefined : await state.get<FullProgress>(fullKey(object))
  if (progress) {
    const check = await client
      .request<{ state: string }>('GET', `/jobs/query/${progress.jobId}`)
      .catch((err: unknown) => {
        if (err instanceof HubError && err.code === 'RATE_LIMITED') throw err
        return undefined
      })
    if (!check || check.body.state === 'Aborted' || check.body.state === 'Failed') progress = undefined
    else r.resumed = true
  }
  if (!progress) {
    const job = await client.request<{ id: string; createdDate: string }>('POST', '/jobs/query', {
      body: { operation: 'query', query: selectSoql(object, m) },
    })
    progress = { jobId: job.body.id, createdDate: job.body.createdDate, rows: 0 }
    if (!ctx.report.dryRun) await state.set(fullKey(object), progress)
  }
  // Poll until the job completes (bounded: an hour at the configured interval).
  const maxPolls = Math.ceil(3_600_000 / config.poll_ms)
  for (let i = 0; ; i += 1) {
    const info = await client.request<{ state: string; numberRecordsProcessed?: number }>(
      'GET',
      `/jobs/query/${progress.jobId}`,
    )
    if (info.body.state === 'JobComplete') {
      progress.total = info.body.numberRecordsProcessed
      break
    }
    if (info.body.state === 'Failed' || info.body.state === 'Aborted')
      throw new HubError('SERVICE_UNAVAILABLE', `The Bulk query job for ${object} ended ${info.body.state}`)
    if (i >= maxPolls)
      throw new HubError('TIMEOUT', `The Bulk query job for ${object} did not complete in an hour`)
    await sleep(config.poll_ms, ctx.signal)
  }
  r.fetched = progress.rows
  r.written = progress.rows
  while (progress.locator !== 'null') {
    const qs = new URLSearchParams({ maxRecords: String(config.bulk_page_size) })
    if (progress.locator) qs.set('locator', progress.locator)
    const page = await client.request<string>('GET', `/jobs/query/${progress.jobId}/results?${qs}`, {
      text: true,
    })
    const records = parse(String(page.body ?? ''), {
      columns: true,
      skip_empty_lines: true,
      bom: true,
    }) as Record<string, string>[]
    const count = Number(page.headers['sforce-numberofrecords'] ?? records.length)
    if (count !== records.length)
      throw new HubError(
        'SERVICE_UNAVAILABLE',
        `A Bulk results page of ${object} was cut short (${records.length} of ${count})`,
      )
    await writeRecords(ctx, object, m, records, r)
    progress.locator = page.headers['sforce-locator'] ?? 'null'
    progress.rows += records.length
    if (!ctx.report.dryRun) await state.set(fullKey(object), progress)
    ctx.progress?.(progress.rows, progress.total, `${object}: ${progress.rows} records`)
  }
  if (ctx.report.dryRun) return
  const wm: Watermark = { modstamp: progress.createdDate, deletedUntil: progress.createdDate }
  await state.set(wmKey(object), wm)
  await state.delete(fullKey(object))
  r.watermark = wm.modstamp
  await client.request('DELETE', `/jobs/query/${progress.jobId}`).catch(() => undefined)
}

/** Changes since the watermark (minus the overlap) through REST query/queryMore, then deletes. */
async function incrementalSync(
  ctx: SyncContext,
  object: string,
  m: ObjectMapping,
  wm: Watermark,
  r: ObjectReport,
) {
  const { client, state, config } = ctx
  const overlap = config.overlap_seconds * 1000
  const since = iso(Date.parse(wm.modstamp) - overlap)
  const soql = `${selectSoql(object, m, `SystemModstamp > ${since}`)} ORDER BY SystemModstamp ASC, Id ASC`
  const current = { ...wm }
  let next: string | undefined = `/query?${new URLSearchParams({ q: soql })}`
  for (let pages = 0; next && pages < 100_000; pages += 1) {
    const page: { body: { records: Record<string, unknown>[]; nextRecordsUrl?: string; totalSize: number } } =
      await client.request('GET', next)
    const records = page.body.records ?? []
    await writeRecords(ctx, object, m, records, r)
    const last = records[records.length - 1]?.SystemModstamp
    if (typeof last === 'string' && Date.parse(last) > Date.parse(current.modstamp))
      current.modstamp = iso(Date.parse(last))
    if (!ctx.report.dryRun) await state.set(wmKey(object), current)
    ctx.progress?.(r.fetched, page.body.totalSize, `${object}: ${r.fetched} changed`)
    next = page.body.nextRecordsUrl
  }
  if (m.mode === 'upsert') {
    const start = iso(Date.parse(wm.deletedUntil) - overlap)
    const end = iso(Date.now())
    const res = await client.request<{ deletedRecords: { id: string }[]; latestDateCovered: string }>(
      'GET',
      `/sobjects/${object}/deleted/?${new URLSearchParams({ start, end })}`,
    )
    const ids = res.body.deletedRecords.map((d) => d.id)
    const map = m.fields[m.key] === 'Id' ? undefined : ctx.state.table<string>(idmapTable(object))
    const keys: string[] = []
    for (const id of ids) {
      const key = map ? await map.get(id) : id
      if (key !== undefined) keys.push(key)
    }
    if (ctx.target && keys.length > 0) {
      for (let i = 0; i < keys.length; i += ctx.config.batch_size) {
        const { deleted, failed } = await ctx.target.delete(m, keys.slice(i, i + ctx.config.batch_size))
        r.deleted += deleted
        r.failed += failed.length
        for (const f of failed) addError(ctx.report, { object, id: f.key, message: `delete ${f.message}` })
      }
    } else r.deleted += ctx.target ? 0 : keys.length
    current.deletedUntil = res.body.latestDateCovered ?? end
    if (!ctx.report.dryRun) await state.set(wmKey(object), current)
  }
  r.watermark = current.modstamp
}

/**
 * Sync every mapped object in order: full (Bulk 2.0) when asked, when the object was never synced,
 * or when a full sync was interrupted; incremental otherwise.
 */
export async function syncObjects(
  ctx: SyncContext,
  mappings: Record<string, ObjectMapping>,
  options: { full?: boolean },
): Promise<void> {
  for (const [object, m] of Object.entries(mappings)) {
    ctx.signal?.throwIfAborted()
    const wm = await watermarkOf(ctx.state, object)
    const resume = await fullInProgress(ctx.state, object)
    const full = options.full || !wm || resume
    const r: ObjectReport = {
      mode: full ? 'full' : 'incremental',
      fetched: 0,
      written: 0,
      deleted: 0,
      failed: 0,
    }
    ctx.report.objects[object] = r
    if (full) await fullSync(ctx, object, m, r)
    else await incrementalSync(ctx, object, m, wm as Watermark, r)
  }
}
