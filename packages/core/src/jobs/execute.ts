import { randomUUID } from 'node:crypto'
import type { Knex } from 'knex'
import { bindAudit } from '../connectors/bound-hub.ts'
import { type ConnectorHost, connectorRuntime } from '../connectors/context.ts'
import type { Connector, Job } from '../connectors/contract.ts'
import { HubError, isHubError } from '../errors.ts'
import type { Principal } from '../principal.ts'
import { type JobRun, runHistory } from './history.ts'
import { leaseStore } from './lease.ts'

/** What to run: `<connector>:<job>` for one tenant. */
export interface JobRequest {
  connector: string
  job: string
  tenant: string
  input: unknown
  trigger: JobRun['trigger']
  /** A scheduled tick (`<job>:<tenant>:<time>`): at most one run per slot across replicas. */
  slot?: string
}

export interface ExecuteOptions {
  onProgress?: (done: number, total: number | undefined, message: string | undefined) => void
}

/** A run that did not start: the lease is held elsewhere, or a replica already ran this slot. */
export type Executed = { run: JobRun } | { busy: string } | { skipped: string }

export interface JobExecutorOptions {
  host: ConnectorHost
  knex: Knex
  connectors: Connector[]
  /** This process, as recorded in leases and history. */
  holder: string
  leaseMs: number
  now?: () => number
}

/** The principal a job runs as: the tenant's integration identity for this connector's job. */
export function jobPrincipal(tenant: string, job: string): Principal {
  return {
    tenant,
    subject: `job:${job}`,
    roles: ['integration'],
    attributes: {},
    credential: { kind: 'local', id: `job:${job}`, expiresAt: null, scopes: [] },
  }
}

/** Look a job up by `<connector>:<job>`; NOT_FOUND names what exists. */
export function findJob(
  connectors: Connector[],
  connector: string,
  job: string,
): { connector: Connector; job: Job } {
  const c = connectors.find((x) => x.name === connector)
  const j = c?.jobs?.[job]
  if (!c || !j) {
    const all = connectors.flatMap((x) => Object.keys(x.jobs ?? {}).map((n) => `${x.name}:${n}`))
    throw new HubError('NOT_FOUND', `No job '${connector}:${job}' (jobs: ${all.join(', ') || 'none'})`)
  }
  return { connector: c, job: j }
}

/** The job's input, validated by its schema; BAD_REQUEST names the failing paths. */
export function parseJobInput(job: Job, name: string, input: unknown): unknown {
  const parsed = job.input.safeParse(input ?? {})
  if (parsed.success) return parsed.data
  const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(input)'}: ${i.message}`)
  throw new HubError('BAD_REQUEST', `Invalid input for ${name} — ${problems.join('; ')}`)
}

/**
 * Run one job in this process: validate the input, take the (job, tenant) lease, record the run,
 * audit start / finish / failure on the tenant's chain, renew the lease while it runs (a lost lease
 * aborts `ctx.signal`), and release it.
 */
export function jobExecutor(options: JobExecutorOptions) {
  const { host, knex, holder, leaseMs } = options
  const leases = leaseStore(knex, options.now)
  const history = runHistory(knex)

  async function execute(request: JobRequest, exec: ExecuteOptions = {}): Promise<Executed> {
    const found = findJob(options.connectors, request.connector, request.job)
    const name = `${request.connector}:${request.job}`
    const parsed = { data: parseJobInput(found.job, name, request.input) }
    const runId = randomUUID()
    const lease = { job: name, tenant: request.tenant, holder, runId }
    if (!(await leases.acquire(lease, leaseMs)))
      return { busy: `${name} is already running for tenant ${request.tenant}` }
    try {
      const startedAt = new Date().toISOString()
      const base = {
        id: runId,
        job: name,
        tenant: request.tenant,
        trigger: request.trigger,
        holder,
        input: parsed.data,
        startedAt,
      }
      if (!(await history.start(base, request.slot))) return { skipped: `slot ${request.slot} already ran` }
      const principal = jobPrincipal(request.tenant, name)
      const rc = { requestId: runId, clientIp: null, channel: request.connector }
      const audit = bindAudit(host.hub, principal, rc)
      const runtime = connectorRuntime(host, found.connector)
      const abort = new AbortController()
      // Once the run is recorded it must end recorded: a refusal or a failed start audit finishes it
      // as failed rather than leaving it "running" for ever.
      try {
        // A removed tenant's schedules or queued jobs never run (nor read its connector secrets).
        const live = await knex('tenants').where({ id: request.tenant }).whereNull('removed_at').first('id')
        if (!live) throw new HubError('NOT_FOUND', `No tenant '${request.tenant}' (removed?)`)
        await audit.append({
          action: 'job.start',
          resource: name,
          outcome: 'success',
          detail: { runId, trigger: request.trigger },
        })
      } catch (err) {
        const code: string = isHubError(err) ? err.code : 'INTERNAL'
        const message = isHubError(err) ? err.message : 'The job could not start; see the hub log'
        host.logger.error({ err, job: name, tenant: request.tenant, runId }, 'job refused or failed to start')
        const run = await history.finish(runId, { error: { code, message } })
        await audit
          .append({
            action: 'job.fail',
            resource: name,
            outcome: code === 'NOT_FOUND' ? 'denied' : 'error',
            detail: { runId, code },
          })
          .catch((e: unknown) => host.logger.error({ err: e, runId }, 'job failure audit failed'))
        return { run }
      }
      const renew = setInterval(
        () => {
          leases.renew(lease, leaseMs).then(
            (held) => {
              if (!held) abort.abort(new HubError('CONFLICT', `The lease of ${name} was lost`))
            },
            (err: unknown) => abort.abort(err),
          )
        },
        Math.max(50, Math.floor(leaseMs / 3)),
      )
      renew.unref()
      const started = performance.now()
      try {
        const scope = await runtime.scope(principal, { ...rc, signal: abort.signal })
        const result = await found.job.run(parsed.data, {
          ...scope,
          runId,
          signal: abort.signal,
          progress: (done, total, message) => exec.onProgress?.(done, total, message),
        })
        const run = await history.finish(runId, { result: result ?? null })
        await audit.append({
          action: 'job.finish',
          resource: name,
          outcome: 'success',
          durationMs: Math.round(performance.now() - started),
          detail: { runId },
        })
        return { run }
      } catch (err) {
        const code: string = isHubError(err) ? err.code : 'INTERNAL'
        const message = isHubError(err) ? err.message : 'The job failed; see the hub log'
        host.logger.error({ err, job: name, tenant: request.tenant, runId }, 'job failed')
        const run = await history.finish(runId, { error: { code, message } })
        await audit.append({
          action: 'job.fail',
          resource: name,
          outcome: isHubError(err) && err.status < 500 ? 'failure' : 'error',
          durationMs: Math.round(performance.now() - started),
          detail: { runId, code },
        })
        return { run }
      } finally {
        clearInterval(renew)
      }
    } finally {
      await leases.release(lease)
    }
  }

  return { execute, history }
}

export type JobExecutor = ReturnType<typeof jobExecutor>
