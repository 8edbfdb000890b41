import type { ConnectorState } from '@nl2q/core'
import { canonicalHash } from '@nl2q/core'
import { parse } from 'csv-parse/sync'
import { stringify } from 'csv-stringify/sync'
import type { CrmConfig } from '../config.ts'
import { addError, type RunReport } from '../sync/run-report.ts'
import { type SalesforceClient, sleep } from '../sync/salesforce-client.ts'
import type { Insight } from './insights.ts'

const COLLECTION_SIZE = 200

interface PushContext {
  client: SalesforceClient
  state: ConnectorState
  config: CrmConfig
  report: RunReport
  signal?: AbortSignal
  progress?: (done: number, total: number | undefined, message: string) => void
}

/**
 * Write the insights whose values changed since the last successful push (a hash per Account in
 * state): sObject Collections PATCH (200 a call, allOrNone=false) or, above push_bulk_threshold,
 * one Bulk 2.0 ingest job. A dry run only fills `report.changes` with the diff.
 */
export async function pushInsights(ctx: PushContext, insights: Insight[]): Promise<void> {
  const hashes = ctx.state.table<string>('pushed')
  const changed: (Insight & { hash: string })[] = []
  for (const insight of insights) {
    const hash = canonicalHash(insight.fields)
    if ((await hashes.get(insight.accountId)) !== hash) changed.push({ ...insight, hash })
  }
  const r = { mode: 'incremental' as const, fetched: insights.length, written: 0, deleted: 0, failed: 0 }
  ctx.report.objects.Account = r
  ctx.report.changes = changed.slice(0, 1000).map((c) => ({ id: c.accountId, fields: c.fields }))
  if (ctx.report.dryRun || changed.length === 0) return
  const ok = async (ids: string[]) => {
    const byId = new Map(changed.map((c) => [c.accountId, c.hash]))
    for (const id of ids) await hashes.put(id, byId.get(id) as string)
    r.written += ids.length
  }
  if (changed.length > ctx.config.push_bulk_threshold) {
    await bulkIngest(ctx, changed, ok, r)
    return
  }
  for (let i = 0; i < changed.length; i += COLLECTION_SIZE) {
    const chunk = changed.slice(i, i + COLLECTION_SIZE)
    const res = await ctx.client.request<
      { id: string | null; success: boolean; errors: { statusCode: string; message: string }[] }[]
    >('PATCH', '/composite/sobjects', {
      body: {
        allOrNone: false,
        records: chunk.map((c) => ({ attributes: { type: 'Account' }, id: c.accountId, ...c.fields })),
      },
    })
    const good: string[] = []
    res.body.forEach((result, k) => {
      const id = chunk[k]?.accountId ?? String(result.id)
      if (result.success) good.push(id)
      else {
        r.failed += 1
        addError(ctx.report, {
          object: 'Account',
          id,
          message: result.errors.map((e) => `${e.statusCode}: ${e.message}`).join('; '),
        })
      }
    })
    await ok(good)
    ctx.progress?.(i + chunk.length, changed.length, `Account: ${i + chunk.length} pushed`)
  }
}

async function bulkIngest(
  ctx: PushContext,
  changed: (Insight & { hash: string })[],
  ok: (ids: string[]) => Promise<void>,
  r: { failed: number },
) {
  const { client } = ctx
  const fields = Object.keys(changed[0]?.fields ?? {})
  const job = await client.request<{ id: string }>('POST', '/jobs/ingest', {
    body: { object: 'Account', operation: 'update', contentType: 'CSV', lineEnding: 'LF' },
  })
  const id = job.body.id
  const csv = stringify(
    [
      ['Id', ...fields],
      ...changed.map((c) => [
        c.accountId,
        ...fields.map((f) => String((c.fields as Record<string, string>)[f])),
      ]),
    ],
    {
      record_delimiter: 'unix',
    },
  )
  await client.request('PUT', `/jobs/ingest/${id}/batches`, { body: csv, contentType: 'text/csv' })
  await client.request('PATCH', `/jobs/ingest/${id}`, { body: { state: 'UploadComplete' } })
  const maxPolls = Math.ceil(3_600_000 / ctx.config.poll_ms)
  for (let i = 0; ; i += 1) {
    const info = await client.request<{ state: string }>('GET', `/jobs/ingest/${id}`)
    if (info.body.state === 'JobComplete') break
    if (info.body.state === 'Failed' || info.body.state === 'Aborted' || i >= maxPolls)
      throw new Error(`The Bulk ingest job ended ${info.body.state}`)
    await sleep(ctx.config.poll_ms, ctx.signal)
  }
  const good = parse(
    String(
      (await client.request<string>('GET', `/jobs/ingest/${id}/successfulResults`, { text: true })).body,
    ),
    {
      columns: true,
      skip_empty_lines: true,
    },
  ) as Record<string, string>[]
  const bad = parse(
    String((await client.request<string>('GET', `/jobs/ingest/${id}/failedResults`, { text: true })).body),
    {
      columns: true,
      skip_empty_lines: true,
    },
  ) as Record<string, string>[]
  await ok(good.map((g) => g.sf__Id ?? g.Id ?? '').filter(Boolean))
  for (const b of bad) {
    r.failed += 1
    addError(ctx.report, { object: 'Account', id: b.Id ?? b.sf__Id ?? '', message: b.sf__Error ?? 'failed' })
  }
}
