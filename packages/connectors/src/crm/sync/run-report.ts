import type { ConnectorState } from '@nl2q/core'

export interface ObjectReport {
  mode: 'full' | 'incremental'
  fetched: number
  written: number
  deleted: number
  failed: number
  /** SystemModstamp watermark after the run. */
  watermark?: string
  resumed?: boolean
}

export interface RunError {
  object: string
  id: string
  message: string
}

export interface RunReport {
  id: string
  kind: 'sync' | 'push'
  startedAt: string
  finishedAt?: string
  /** `stopped`: the API allowance ran low; the next run resumes where this one stopped. */
  status: 'running' | 'succeeded' | 'stopped' | 'failed'
  dryRun: boolean
  objects: Record<string, ObjectReport>
  /** Per-record failures (first 1000): the run goes on without them. */
  errors: RunError[]
  errorCount: number
  message?: string
  api?: {
    calls: number
    retries: number
    refreshes: number
    throttled: number
    usage?: { used: number; limit: number }
  }
  /** Push: the records whose values changed (dry run: the diff). */
  changes?: { id: string; fields: Record<string, unknown> }[]
}

const MAX_ERRORS = 1000
const KEEP_RUNS = 50

export function newReport(kind: RunReport['kind'], dryRun: boolean): RunReport {
  const startedAt = new Date().toISOString()
  return {
    id: `${startedAt}-${kind}`,
    kind,
    startedAt,
    status: 'running',
    dryRun,
    objects: {},
    errors: [],
    errorCount: 0,
  }
}

export function addError(report: RunReport, error: RunError): void {
  report.errorCount += 1
  if (report.errors.length < MAX_ERRORS) report.errors.push(error)
}

/** Keep the last runs in the connector's state (`hub crm status` reads them). */
export async function saveRun(state: ConnectorState, report: RunReport): Promise<void> {
  const runs = state.table<RunReport>('runs')
  await runs.put(report.id, report)
  const all = await runs.list({ limit: 1000 })
  for (const old of all.slice(0, Math.max(0, all.length - KEEP_RUNS))) await runs.delete(old.id)
}

export async function lastRuns(state: ConnectorState, n: number): Promise<RunReport[]> {
  const all = await state.table<RunReport>('runs').list({ limit: 1000 })
  return all.slice(-n).map((r) => r.value)
}
