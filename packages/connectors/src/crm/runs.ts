import type { TenantScope } from '@nl2q/core'
import { HubError, isHubError } from '@nl2q/core'
import type { CrmConfig } from './config.ts'
import { computeInsights } from './push/insights.ts'
import { pushInsights } from './push/push.ts'
import { loadMapping, type ObjectMapping } from './sync/mapping.ts'
import { lastRuns, newReport, type RunReport, saveRun } from './sync/run-report.ts'
import { SalesforceClient } from './sync/salesforce-client.ts'
import { syncObjects, watermarkOf } from './sync/sync.ts'
import { WriteTarget } from './sync/target.ts'

export interface RunHooks {
  signal?: AbortSignal
  progress?: (done: number, total: number | undefined, message: string) => void
}

export interface SyncOptions {
  full?: boolean
  /** Sync only these objects (names from the mapping), in mapping order. */
  objects?: string[]
  dryRun?: boolean
}

async function clientFor(scope: TenantScope<CrmConfig>, signal?: AbortSignal): Promise<SalesforceClient> {
  const { config, secrets } = scope
  const credentials =
    config.auth === 'private_key'
      ? { privateKey: await secrets.require('private_key') }
      : { clientSecret: await secrets.require('client_secret') }
  return new SalesforceClient(config, credentials, signal)
}

function select(mappings: Record<string, ObjectMapping>, objects: string[] | undefined) {
  if (!objects?.length) return mappings
  for (const o of objects)
    if (!(o in mappings))
      throw new HubError(
        'VALIDATION_FAILED',
        `'${o}' is not a mapped object (${Object.keys(mappings).join(', ')})`,
      )
  return Object.fromEntries(Object.entries(mappings).filter(([name]) => objects.includes(name)))
}

/** End a run: status, API figures, stored report, one audit event. */
async function finish(
  scope: TenantScope<CrmConfig>,
  report: RunReport,
  client: SalesforceClient | undefined,
  err?: unknown,
) {
  report.finishedAt = new Date().toISOString()
  if (client) report.api = { ...client.stats, ...(client.stats.usage ? { usage: client.stats.usage } : {}) }
  if (err) {
    report.status = isHubError(err) && err.code === 'RATE_LIMITED' ? 'stopped' : 'failed'
    report.message = isHubError(err) ? err.message : 'internal error'
    if (!isHubError(err)) scope.logger.error({ err }, 'crm run failed')
  } else report.status = 'succeeded'
  const rows = Object.values(report.objects).reduce((n, o) => n + o.written + o.deleted, 0)
  if (!report.dryRun) await saveRun(scope.state, report)
  await scope.audit.append({
    action: `crm.${report.kind}`,
    resource: Object.keys(report.objects).join(',') || null,
    outcome: report.status === 'succeeded' ? 'success' : 'error',
    rowCount: rows,
    durationMs: Date.parse(report.finishedAt) - Date.parse(report.startedAt),
    detail: {
      status: report.status,
      dryRun: report.dryRun,
      errors: report.errorCount,
      objects: Object.fromEntries(
        Object.entries(report.objects).map(([k, o]) => [
          k,
          { mode: o.mode, written: o.written, deleted: o.deleted, failed: o.failed },
        ]),
      ),
    },
  })
}

/** `hub crm sync` / job crm:sync. A stopped or failed run keeps its progress; the next resumes. */
export async function runSync(
  scope: TenantScope<CrmConfig>,
  options: SyncOptions,
  hooks: RunHooks = {},
): Promise<RunReport> {
  const report = newReport('sync', options.dryRun === true)
  let client: SalesforceClient | undefined
  let target: WriteTarget | undefined
  try {
    const mappings = select(loadMapping(scope.config.mapping_file).objects, options.objects)
    client = await clientFor(scope, hooks.signal)
    if (!options.dryRun) {
      target = WriteTarget.open(await scope.secrets.require('sync_target_url'))
      await target.check(mappings)
    }
    await syncObjects(
      { client, target, state: scope.state, config: scope.config, report, ...hooks },
      mappings,
      { full: options.full === true },
    )
    await finish(scope, report, client)
  } catch (err) {
    await finish(scope, report, client, err)
  } finally {
    await target?.close()
  }
  return report
}

/** `hub crm push` / job crm:push: insights through the audited engine, changed values only. */
export async function runPush(
  scope: TenantScope<CrmConfig>,
  options: { dryRun?: boolean },
  hooks: RunHooks = {},
): Promise<RunReport> {
  const report = newReport('push', options.dryRun === true)
  let client: SalesforceClient | undefined
  try {
    const insights = await computeInsights(scope.hub, hooks.signal)
    client = await clientFor(scope, hooks.signal)
    await pushInsights({ client, state: scope.state, config: scope.config, report, ...hooks }, insights)
    await finish(scope, report, client)
  } catch (err) {
    await finish(scope, report, client, err)
  }
  return report
}

/** `hub crm status`: watermarks, interrupted full syncs, last runs, API usage. */
export async function crmStatus(scope: TenantScope<CrmConfig>) {
  const mapping = loadMapping(scope.config.mapping_file)
  const objects: Record<string, unknown> = {}
  for (const object of Object.keys(mapping.objects)) {
    objects[object] = {
      watermark: (await watermarkOf(scope.state, object)) ?? null,
      fullInProgress: (await scope.state.get(`full:${object}`)) !== undefined,
    }
  }
  const runs = await lastRuns(scope.state, 10)
  const usage = [...runs].reverse().find((r) => r.api?.usage)?.api?.usage ?? null
  return {
    objects,
    apiUsage: usage,
    lastRuns: runs.map((r) => ({
      id: r.id,
      kind: r.kind,
      status: r.status,
      startedAt: r.startedAt,
      finishedAt: r.finishedAt,
      errors: r.errorCount,
      counts: Object.fromEntries(
        Object.entries(r.objects).map(([k, o]) => [
          k,
          { written: o.written, deleted: o.deleted, failed: o.failed },
        ]),
      ),
    })),
  }
}
