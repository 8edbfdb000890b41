import { Readable } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import { createGzip, type ZlibOptions } from 'node:zlib'
import {
  HubError,
  isHubError,
  type JobContext,
  planHash,
  type QueryPlan,
  type QueryResult,
  sha256Hex,
} from '@nl2q/core'
import { type Delivery, openDelivery } from '../../delivery/index.ts'
import type { BoastConfig } from '../config.ts'
import { csvStream } from './csv.ts'
import { type ExportManifest, HUB_VERSION, manifestName } from './manifest.ts'
import { type DeliveryReceipt, receiptKey, receipts } from './receipts.ts'
import type { ExportInput } from './spec.ts'

export interface ExportResult extends Record<string, unknown> {
  exportId: string
  asOf: string
  file: string
  manifest: string
  destination: string
  rowCount: number
  bytes: number
  sha256: string
  attempts: number
  /** `delivered` now, `adopted` (a final file of a crashed run finished), `skipped` (receipt). */
  outcome: 'delivered' | 'adopted' | 'skipped'
}

/** What the export reads: a plan, and the question it came from (null for a typed plan). */
interface Source {
  exportId: string
  /** The date the rows are as of: the run's, else a saved question's own, else today. */
  asOf: string
  question: string | null
  plan: QueryPlan
}

const today = () => new Date().toISOString().slice(0, 10)
/** Bytes buffered between the CSV and gzip. */
const PIPE_BYTES = 512 * 1024
const RETRYABLE = new Set(['SERVICE_UNAVAILABLE', 'TIMEOUT', 'DATA_SOURCE_UNAVAILABLE'])

async function resolveSource(
  input: ExportInput,
  asOf: string,
  ctx: JobContext<BoastConfig>,
  readSaved: (name: string) => Promise<{ question: string; asOf: string | null } | null>,
): Promise<Source> {
  if (input.plan)
    return {
      exportId: input.export ?? `plan-${planHash(input.plan).slice(0, 12)}`,
      asOf,
      question: null,
      plan: input.plan,
    }
  let question = input.question ?? null
  let savedAsOf: string | null = null
  if (input.saved !== undefined) {
    const saved = await readSaved(input.saved)
    if (!saved) throw new HubError('NOT_FOUND', `No saved question '${input.saved}'`)
    question = saved.question
    savedAsOf = saved.asOf
  }
  if (question === null) throw new HubError('BAD_REQUEST', 'give exactly one of saved, question or plan')
  // One audited ask turns the question into its plan; the rows are then streamed from that plan.
  const effective = input.asOf ?? savedAsOf ?? asOf
  const answer = await ctx.hub.ask({ question, asOf: effective, limit: 1 })
  const id =
    input.export ??
    (input.saved !== undefined
      ? `saved-${input.saved.toLowerCase().replace(/[^a-z0-9_-]/g, '-')}`.slice(0, 63)
      : `q-${sha256Hex(question).slice(0, 12)}`)
  return { exportId: id, asOf: effective, question, plan: answer.plan }
}

/**
 * One export run: plan → one streamed read (a database cursor) → CSV → gzip → delivery (`.part`,
 * verified, renamed), then the manifest the same way. A disconnect or timeout restarts the file from
 * the first row after a backoff; the receipt in state makes a re-run for the same (export, asOf,
 * destination) adopt or skip what is delivered.
 */
export async function runExport(
  input: ExportInput,
  ctx: JobContext<BoastConfig>,
  readSaved: (name: string) => Promise<{ question: string; asOf: string | null } | null>,
): Promise<ExportResult> {
  const cfg = ctx.config
  const runAsOf = input.asOf ?? today()
  const to = input.to ?? cfg.export_to
  if (!to) throw new HubError('BAD_REQUEST', 'no destination: pass --to or set the boast export_to setting')
  const gzip = input.gzip ?? cfg.gzip
  const delimiter = input.delimiter ?? cfg.csv_delimiter
  const source = await resolveSource(input, runAsOf, ctx, readSaved)
  // File name, manifest and receipt carry the date the rows are as of (a saved question's own).
  const asOf = source.asOf
  const key = receiptKey(source.exportId, asOf, to)
  const store = receipts(ctx.state)
  const tenant = ctx.hub.principal.tenant
  const scope = { secrets: ctx.secrets, config: cfg as unknown as Record<string, unknown> }
  const started = performance.now()

  const manifestOf = (r: DeliveryReceipt): ExportManifest => ({
    manifestVersion: 1,
    exportId: source.exportId,
    runId: r.runId,
    tenant,
    question: r.question,
    planHash: r.planHash,
    asOf,
    file: r.file,
    format: { type: 'csv', delimiter: r.delimiter, gzip: r.gzip, encoding: 'utf-8' },
    columns: r.columns,
    rowCount: r.rowCount,
    bytes: r.bytes,
    sha256: r.sha256,
    createdAt: new Date().toISOString(),
    hubVersion: HUB_VERSION,
  })

  const result = (r: DeliveryReceipt, attempts: number, outcome: ExportResult['outcome']): ExportResult => ({
    exportId: source.exportId,
    asOf,
    file: r.file,
    manifest: manifestName(r.file),
    destination: r.destination,
    rowCount: r.rowCount,
    bytes: r.bytes,
    sha256: r.sha256,
    attempts,
    outcome,
  })

  async function writeManifest(delivery: Delivery, r: DeliveryReceipt): Promise<void> {
    const body = Buffer.from(`${JSON.stringify(manifestOf(r), null, 2)}\n`)
    await delivery.put(
      { name: manifestName(r.file), body: Readable.from([body]), conflict: 'replace' },
      { signal: ctx.signal },
    )
    await store.put(key, { ...r, status: 'delivered', at: new Date().toISOString() })
  }

  /** One attempt on a fresh connection: adopt what an earlier run left, or write the file anew. */
  async function attempt(delivery: Delivery): Promise<{ receipt: DeliveryReceipt; adopted: boolean }> {
    const earlier = await store.get(key)
    if (earlier && earlier.status !== 'delivered' && earlier.destination === delivery.url) {
      // The data file was renamed into place (its part was complete and verified): finish it.
      if (await delivery.exists(earlier.file)) {
        await writeManifest(delivery, earlier)
        return { receipt: { ...earlier, status: 'delivered' }, adopted: earlier.runId !== ctx.runId }
      }
    }
    const file = `${source.exportId}_${asOf}_${ctx.runId}.csv${gzip ? '.gz' : ''}`
    // One read of every row (hub.stream: a database cursor on MariaDB/PostgreSQL), batch by batch;
    // it always yields a first batch, empty or not, which carries the columns.
    const batches = ctx.hub
      .stream(source.plan, { pageSize: cfg.page_rows, signal: ctx.signal })
      [Symbol.asyncIterator]()
    const first = await batches.next()
    if (first.done) throw new HubError('INTERNAL', 'the read yielded no batch')
    const firstPage: QueryResult = first.value
    let rowCount = 0
    const csv = csvStream(firstPage, batches, {
      delimiter,
      onRows: (n) => {
        rowCount += n
        ctx.progress(rowCount, undefined, `${rowCount} rows`)
      },
    })
    // Room for a few batches ahead of gzip, so the CSV of the next batches is written while the
    // thread pool compresses the last ones (with a 16 KiB buffer each waited for the other).
    const body = gzip
      ? // zlib streams take the Transform options too, though ZlibOptions does not list them
        csv.pipe(
          createGzip({
            level: cfg.gzip_level,
            chunkSize: 64 * 1024,
            writableHighWaterMark: PIPE_BYTES,
          } as ZlibOptions),
        )
      : csv
    csv.on('error', (err) => body.destroy(err))
    body.on('close', () => csv.destroy())
    const columns = firstPage.columns.map((c) => ({ name: c.name, type: c.type }))
    const base = {
      runId: ctx.runId,
      destination: delivery.url,
      file,
      columns,
      planHash: planHash(source.plan),
      question: source.question,
      gzip,
      delimiter,
    }
    const delivered = await delivery.put(
      { name: file, body, conflict: 'fail' },
      {
        signal: ctx.signal,
        beforeCommit: (staged) =>
          store.put(key, { ...base, ...staged, status: 'staged', rowCount, at: new Date().toISOString() }),
      },
    )
    const receipt: DeliveryReceipt = {
      ...base,
      ...delivered,
      status: 'data',
      rowCount,
      at: new Date().toISOString(),
    }
    await store.put(key, receipt)
    await writeManifest(delivery, receipt)
    return { receipt: { ...receipt, status: 'delivered' }, adopted: false }
  }

  const done = await store.get(key)
  if (done?.status === 'delivered' && !input.force) {
    await ctx.audit.append({
      action: 'boast.export',
      resource: source.exportId,
      outcome: 'success',
      rowCount: 0,
      detail: { runId: ctx.runId, skipped: 'already delivered', file: done.file, asOf },
    })
    return result(done, 0, 'skipped')
  }
  if (done?.status === 'delivered') await store.delete(key)

  let lastError: unknown
  for (let n = 0; n <= cfg.retries; n++) {
    if (n > 0) {
      const wait = Math.min(cfg.retry_base_ms * 2 ** (n - 1), 60_000)
      ctx.logger.warn({ err: lastError, attempt: n, waitMs: wait }, 'boast export attempt failed; retrying')
      await sleep(wait, undefined, { signal: ctx.signal })
    }
    let delivery: Delivery | undefined
    try {
      delivery = await openDelivery(to, scope)
      const { receipt, adopted } = await attempt(delivery)
      ctx.metrics.counter('exports_total', 'BOAST exports delivered', ['outcome']).inc({ outcome: 'success' })
      await ctx.audit.append({
        action: 'boast.export',
        resource: source.exportId,
        outcome: 'success',
        rowCount: receipt.rowCount,
        durationMs: Math.round(performance.now() - started),
        detail: {
          runId: ctx.runId,
          file: receipt.file,
          bytes: receipt.bytes,
          sha256: receipt.sha256,
          asOf,
          destination: receipt.destination,
          attempts: n + 1,
        },
      })
      return result(receipt, n + 1, adopted ? 'adopted' : 'delivered')
    } catch (err) {
      lastError = err
      if (!isHubError(err) || !RETRYABLE.has(err.code) || ctx.signal.aborted) break
    } finally {
      await delivery?.close()
    }
  }
  ctx.metrics.counter('exports_total', 'BOAST exports delivered', ['outcome']).inc({ outcome: 'failure' })
  const code = isHubError(lastError) ? lastError.code : 'INTERNAL'
  await ctx.audit.append({
    action: 'boast.export',
    resource: source.exportId,
    outcome: isHubError(lastError) && lastError.status < 500 ? 'failure' : 'error',
    durationMs: Math.round(performance.now() - started),
    detail: { runId: ctx.runId, code, asOf },
  })
  throw lastError
}
