import { writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAuditLog } from '../packages/core/src/audit/index.ts'
import { createJobRunner, type JobRunnerOptions } from '../packages/core/src/jobs/index.ts'
import { type MetadataStore, openMetadataStore } from '../packages/core/src/metadata/store.ts'
import jobConnector from './fixtures/job-connector.ts'
import { runHub } from './helpers/cli.ts'
import { createTestHub, type TestHub } from './helpers/hub.ts'

let hub: TestHub
let env: Record<string, string>

beforeAll(async () => {
  hub = await createTestHub()
  await hub.services.tenants.close()
  env = {
    HUB_HOME: hub.home,
    HUB_LOG_LEVEL: 'silent',
    HUB_CONNECTORS: join(import.meta.dirname, 'fixtures/job-connector.ts'),
  }
})
afterAll(() => hub.close())

/** A hub replica's job runner on this test's metadata store. */
const jobRunner = (knex: MetadataStore['knex'], extra: Partial<JobRunnerOptions> = {}) =>
  createJobRunner({
    host: {
      hub: hub.services.hub,
      knex,
      secrets: { seal: (v) => v, open: (v) => v, keyIdOf: () => null, currentKeyId: () => 'none' },
      registry: hub.services.metrics.registry,
      logger: hub.services.logger,
      info: {
        publicUrl: undefined,
        jwtIssuer: undefined,
        corsOrigins: [],
        limits: { maxRows: 1, bodyBytes: 1 },
      },
      env: {},
    },
    knex,
    connectors: [jobConnector],
    ...extra,
  })

describe('hub connector secret / config', () => {
  it('stores a secret from a file sealed at rest, lists names only, and the job reads it', async () => {
    const file = join(hub.home, 'token.txt')
    writeFileSync(file, 'tok-123456789\n')
    const set = await runHub(
      ['connector', 'secret', 'set', 'jobtest', '--tenant', 'acme', `token=@${file}`],
      env,
    )
    expect(set).toMatchObject({ code: 0 })
    const list = await runHub(['connector', 'secret', 'list', 'jobtest', '--tenant', 'acme'], env)
    expect(list.stdout).toContain('token')
    expect(list.stdout).not.toContain('tok-123456789')
    let sealedWith = ''
    const metadata = openMetadataStore(`sqlite:${hub.home}/hub.sqlite`)
    try {
      const rows = (await metadata.knex('connector_secrets').select('value')) as { value: string }[]
      expect(rows).toHaveLength(1)
      expect(rows[0]?.value).toMatch(/^nl2q:v1:/)
      sealedWith = rows[0]?.value.split(':')[2] ?? ''
    } finally {
      await metadata.close()
    }
    const run = await runHub(['job', 'run', 'jobtest:sync', '--tenant', 'acme'], env)
    expect(run).toMatchObject({ code: 0 })
    expect(run.stdout).toContain('"tokenLength":13')
    // A key rotation re-seals connector secrets too: the job still reads the value afterwards.
    expect(await runHub(['secrets', 'rotate'], env)).toMatchObject({ code: 0 })
    const rotated = openMetadataStore(`sqlite:${hub.home}/hub.sqlite`)
    try {
      const after = (await rotated.knex('connector_secrets').first('value')) as { value: string }
      expect(after.value.split(':')[2]).not.toBe(sealedWith)
    } finally {
      await rotated.close()
    }
    expect((await runHub(['job', 'run', 'jobtest:sync', '--tenant', 'acme'], env)).stdout).toContain(
      '"tokenLength":13',
    )
    // Another tenant's run cannot see acme's secret.
    const other = await runHub(['job', 'run', 'jobtest:sync', '--tenant', 'globex'], env)
    expect(other.stdout).toContain('"tokenLength":null')
  })

  it("checks a tenant's settings against the connector schema, and the job reads them", async () => {
    const bad = await runHub(['connector', 'config', 'jobtest', '--tenant', 'acme', 'BATCH=0'], env)
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain('BATCH')
    const unknown = await runHub(['connector', 'config', 'jobtest', '--tenant', 'acme', 'NOPE=1'], env)
    expect(unknown.code).toBe(2)
    expect(
      await runHub(['connector', 'config', 'jobtest', '--tenant', 'acme', 'BATCH=25'], env),
    ).toMatchObject({
      code: 0,
    })
    const run = await runHub(['job', 'run', 'jobtest:sync', '--tenant', 'acme'], env)
    expect(run.stdout).toContain('"batch":25')
    const globex = await runHub(['job', 'run', 'jobtest:sync', '--tenant', 'globex'], env)
    expect(globex.stdout).toContain('"batch":10')
  })
})

describe('hub job', () => {
  it('runs a job now with --input, refuses a bad input, and lists the runs in the history', async () => {
    const run = await runHub(['job', 'run', 'jobtest:sync', '--tenant', 'acme', '--input', '{"n":3}'], env)
    expect(run).toMatchObject({ code: 0 })
    expect(run.stdout).toMatch(/jobtest:sync {2}acme {2}cli {2}succeeded/)
    const bad = await runHub(['job', 'run', 'jobtest:sync', '--tenant', 'acme', '--input', '{"n":"x"}'], env)
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain('BAD_REQUEST')
    const history = await runHub(['job', 'history', '--tenant', 'acme', '--json'], env)
    const runs = history.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { status: string; tenant: string })
    expect(runs.length).toBeGreaterThanOrEqual(3)
    expect(runs.every((r) => r.tenant === 'acme' && r.status === 'succeeded')).toBe(true)
  })

  it('schedules a job with a cron expression and refuses one that is not', async () => {
    const bad = await runHub(
      ['job', 'schedule', 'jobtest:sync', '--tenant', 'acme', '--cron', 'every day'],
      env,
    )
    expect(bad.code).toBe(2)
    const ok = await runHub(
      ['job', 'schedule', 'jobtest:sync', '--tenant', 'acme', '--cron', '0 2 * * *'],
      env,
    )
    expect(ok).toMatchObject({ code: 0 })
    const gone = await runHub(['job', 'schedule', 'jobtest:sync', '--tenant', 'acme', '--remove'], env)
    expect(gone).toMatchObject({ code: 0 })
  })
})

describe('hub connector secret remove', () => {
  it('removes nothing when one of several names is unknown, and audits the names it removed', async () => {
    const set = await runHub(
      ['connector', 'secret', 'set', 'jobtest', '--tenant', 'acme', 'a1=x', 'a2=y'],
      env,
    )
    expect(set).toMatchObject({ code: 0 })
    const bad = await runHub(
      ['connector', 'secret', 'remove', 'jobtest', '--tenant', 'acme', 'a1', 'nope'],
      env,
    )
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain('NOT_FOUND')
    expect(
      (await runHub(['connector', 'secret', 'list', 'jobtest', '--tenant', 'acme'], env)).stdout,
    ).toMatch(/^a1\t/m)
    const ok = await runHub(['connector', 'secret', 'remove', 'jobtest', '--tenant', 'acme', 'a1', 'a2'], env)
    expect(ok).toMatchObject({ code: 0 })
    const metadata = openMetadataStore(`sqlite:${hub.home}/hub.sqlite`)
    try {
      const events = (await createAuditLog(metadata).list('acme', { limit: 20 })).items.filter(
        (e) => e.action === 'connector.secret.remove',
      )
      expect(events.map((e) => e.detail)).toEqual([{ names: ['a1', 'a2'] }])
    } finally {
      await metadata.close()
    }
  })
})

describe('job runs that cannot start', () => {
  it('finishes the run as failed when its job.start audit cannot be written', async () => {
    const metadata = openMetadataStore(`sqlite:${hub.home}/hub.sqlite`)
    const runner = jobRunner(metadata.knex)
    try {
      await metadata.knex.raw(
        "CREATE TRIGGER no_job_start BEFORE INSERT ON audit_events WHEN NEW.action = 'job.start' BEGIN SELECT RAISE(ABORT, 'audit store refused'); END",
      )
      const run = await runner.run({
        connector: 'jobtest',
        job: 'sync',
        tenant: 'acme',
        input: {},
        trigger: 'cli',
      })
      expect(run).toMatchObject({ status: 'failed', error: { code: 'AUDIT_UNAVAILABLE' } })
      const [last] = await runner.history({ tenant: 'acme', limit: 1 })
      expect(last).toMatchObject({ id: run.id, status: 'failed' })
    } finally {
      await metadata.knex.raw('DROP TRIGGER IF EXISTS no_job_start')
      await runner.close()
      await metadata.close()
    }
  })
})

describe('jobs on BullMQ when Redis is down', () => {
  it('rejects a run with SERVICE_UNAVAILABLE within the dispatch deadline instead of hanging', async () => {
    // A loopback port nothing listens on.
    const server = createServer()
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as { port: number }
    await new Promise<void>((resolve) => server.close(() => resolve()))
    const metadata = openMetadataStore(`sqlite:${hub.home}/hub.sqlite`)
    const runner = jobRunner(metadata.knex, {
      redisUrl: `redis://127.0.0.1:${port}`,
      dispatchTimeoutMs: 800,
    })
    try {
      const started = performance.now()
      await expect(
        runner.run({ connector: 'jobtest', job: 'sync', tenant: 'acme', input: {}, trigger: 'cli' }),
      ).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE' })
      expect(performance.now() - started).toBeLessThan(3000)
    } finally {
      // Closing does not hang on the dead Redis either.
      const closing = performance.now()
      await runner.close()
      expect(performance.now() - closing).toBeLessThan(3000)
      await metadata.close()
    }
  }, 15_000)
})

describe('hub tenant remove, for connectors and jobs', () => {
  it("deletes the tenant's connector secrets, settings, state and schedules, and its jobs no longer run", async () => {
    for (const args of [
      ['connector', 'secret', 'set', 'jobtest', '--tenant', 'globex', 'token=globex-secret'],
      ['connector', 'config', 'jobtest', '--tenant', 'globex', 'BATCH=7'],
      ['job', 'schedule', 'jobtest:sync', '--tenant', 'globex', '--cron', '0 3 * * *'],
    ])
      expect(await runHub(args, env)).toMatchObject({ code: 0 })
    const metadata = openMetadataStore(`sqlite:${hub.home}/hub.sqlite`)
    try {
      await metadata.knex('connector_state').insert({
        connector: 'jobtest',
        tenant: 'globex',
        tbl: '',
        id: 'watermark',
        value_json: '1',
        updated_at: new Date(0).toISOString(),
      })
      expect(await runHub(['tenant', 'remove', 'globex'], env)).toMatchObject({ code: 0 })
      for (const table of ['connector_secrets', 'connector_settings', 'connector_state', 'job_schedules'])
        expect(await metadata.knex(table).where({ tenant: 'globex' }), table).toEqual([])
      expect((await metadata.knex('connector_secrets').where({ tenant: 'acme' })).length).toBeGreaterThan(0)

      // `hub job run` refuses it; a hub's schedule tick (or a queued job) for it is refused by the runner,
      // recorded as a failed run and audited as denied.
      expect((await runHub(['job', 'run', 'jobtest:sync', '--tenant', 'globex'], env)).stderr).toContain(
        'NOT_FOUND',
      )
      const runner = jobRunner(metadata.knex)
      try {
        const schedule = { job: 'jobtest:sync', tenant: 'globex', cron: '0 3 * * *', input: {} }
        const run = await runner.fire(schedule, new Date(Date.UTC(2030, 0, 1, 3)))
        expect(run).toMatchObject({ status: 'failed', error: { code: 'NOT_FOUND' } })
        expect(run?.result ?? null).toBeNull()
      } finally {
        await runner.close()
      }
      const trail = (await createAuditLog(metadata).list('globex', { limit: 5 })).items
      expect(trail[0]).toMatchObject({ action: 'job.fail', outcome: 'denied' })

      // A schedule left behind (e.g. from before this cleanup) can still be removed.
      await metadata.knex('job_schedules').insert({
        job: 'jobtest:sync',
        tenant: 'globex',
        cron: '0 3 * * *',
        input_json: '{}',
        updated_at: new Date(0).toISOString(),
      })
      const gone = await runHub(['job', 'schedule', 'jobtest:sync', '--tenant', 'globex', '--remove'], env)
      expect(gone).toMatchObject({ code: 0 })
      expect(await metadata.knex('job_schedules').where({ tenant: 'globex' })).toEqual([])
    } finally {
      await metadata.close()
    }
  })
})
