import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { createAuditLog } from '../packages/core/src/audit/index.ts'
import { defineConnector, defineJob } from '../packages/core/src/connectors/contract.ts'
import { HubError } from '../packages/core/src/errors.ts'
import { createJobRunner, type JobRunner, leaseStore } from '../packages/core/src/jobs/index.ts'
import { type MetadataStore, openMetadataStore } from '../packages/core/src/metadata/store.ts'
import { createTestHub, type TestHub } from './helpers/hub.ts'
import { createTestDatabase } from './helpers/mysql.ts'

const REDIS_URL = process.env.NL2Q_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'

/** A run blocks on this until the test lets it go (to hold the lease while another runner tries). */
let release: () => void = () => undefined
let blocked: Promise<void> = Promise.resolve()
const block = () => {
  blocked = new Promise((resolve) => {
    release = resolve
  })
}

const connector = () =>
  defineConnector({
    name: 'jobtest',
    jobs: {
      sync: defineJob({
        description: 'counts the datasets it may see and keeps a watermark',
        input: z.object({
          n: z.number().int().min(1).default(2),
          hold: z.boolean().default(false),
          fail: z.boolean().default(false),
        }),
        async run(input, ctx) {
          const datasets = await ctx.hub.datasets()
          for (let i = 1; i <= input.n; i += 1) ctx.progress(i, input.n, `step ${i}`)
          await ctx.state.set('watermark', input.n)
          if (input.hold) await blocked
          if (input.fail) throw new HubError('BAD_REQUEST', 'told to fail')
          return { datasets: datasets.length, watermark: await ctx.state.get('watermark') }
        },
      }),
    },
  })

/** Remove this file's BullMQ keys (its own random prefix) from the shared Redis. */
async function dropRedisKeys(prefix: string): Promise<void> {
  const { hostname, port } = new URL(REDIS_URL)
  const cli = (...args: string[]) =>
    promisify(execFile)('redis-cli', ['-h', hostname, '-p', port || '6379', ...args])
  const { stdout } = await cli('--scan', '--pattern', `${prefix}:*`)
  const keys = stdout.split('\n').filter(Boolean)
  for (let i = 0; i < keys.length; i += 100) await cli('del', ...keys.slice(i, i + 100))
}

const backends = [
  { store: 'SQLite', queue: 'embedded' },
  { store: 'SQLite', queue: 'BullMQ' },
  { store: 'MariaDB', queue: 'embedded' },
  { store: 'MariaDB', queue: 'BullMQ' },
] as const

describe.each(backends)('jobs on a $store metadata store, $queue', ({ store, queue }) => {
  let hub: TestHub
  let drop: (() => Promise<void>) | undefined
  let other: MetadataStore
  let a: JobRunner
  let b: JobRunner
  const prefix = `nl2q-test-${randomBytes(4).toString('hex')}`

  beforeAll(async () => {
    let url: string | undefined
    if (store === 'MariaDB') {
      const db = await createTestDatabase('nl2q_jobs')
      url = db.url
      drop = db.drop
    }
    hub = await createTestHub({
      ...(url ? { env: { HUB_DATABASE_URL: url } } : {}),
      connectors: [connector()],
    })
    // Two runners, as two replicas would be: each with its own connection to the one metadata store.
    other = openMetadataStore(url ?? `sqlite:${hub.home}/hub.sqlite`)
    const runner = (knex: MetadataStore['knex'], holder: string) =>
      createJobRunner({
        host: {
          hub: hub.services.hub,
          knex,
          secrets: { seal: (s) => s, open: (s) => s, keyIdOf: () => null, currentKeyId: () => 'none' },
          registry: hub.services.metrics.registry,
          logger: hub.services.logger,
          info: {
            publicUrl: undefined,
            jwtIssuer: undefined,
            corsOrigins: [],
            limits: { maxRows: 100, bodyBytes: 1000 },
          },
          env: {},
        },
        knex,
        connectors: [connector()],
        holder,
        leaseMs: 2000,
        ...(queue === 'BullMQ' ? { redisUrl: REDIS_URL, redisPrefix: prefix } : {}),
      })
    a = runner(hub.services.metadata.knex, 'replica-a')
    b = runner(other.knex, 'replica-b')
  })

  afterAll(async () => {
    release()
    await a?.close()
    await b?.close()
    await other?.close()
    await hub?.close()
    await drop?.()
    if (queue === 'BullMQ') await dropRedisKeys(prefix)
  })

  it('runs a job now as the tenant integration principal, records it and reports progress', async () => {
    const progress: string[] = []
    const run = await a.run(
      { connector: 'jobtest', job: 'sync', tenant: 'acme', input: { n: 3 }, trigger: 'cli' },
      { onProgress: (done, total, message) => progress.push(`${done}/${total} ${message}`) },
    )
    expect(run).toMatchObject({ job: 'jobtest:sync', tenant: 'acme', status: 'succeeded', trigger: 'cli' })
    expect(run.result).toMatchObject({ watermark: 3 })
    expect(Number(run.result?.datasets)).toBeGreaterThan(0)
    expect(progress).toEqual(['1/3 step 1', '2/3 step 2', '3/3 step 3'])
    const history = await b.history({ tenant: 'acme' })
    expect(history[0]).toMatchObject({ id: run.id, status: 'succeeded' })
    expect(await b.history({ tenant: 'globex' })).toEqual([])
  })

  it('audits start and finish on the tenant chain, with the connector as channel', async () => {
    const run = await a.run({
      connector: 'jobtest',
      job: 'sync',
      tenant: 'globex',
      input: {},
      trigger: 'cli',
    })
    const events = (await createAuditLog(hub.services.metadata).list('globex', { limit: 20 })).items.filter(
      (e) => (e.detail as { runId?: string } | null)?.runId === run.id,
    )
    expect(events.map((e) => e.action).sort()).toEqual(['job.finish', 'job.start'])
    expect(events.every((e) => e.channel === 'jobtest' && e.subject === 'job:jobtest:sync')).toBe(true)
  })

  it('refuses input that fails the job schema before anything runs', async () => {
    await expect(
      a.run({ connector: 'jobtest', job: 'sync', tenant: 'acme', input: { n: 'many' }, trigger: 'cli' }),
    ).rejects.toMatchObject({ code: 'BAD_REQUEST' })
    await expect(
      a.run({ connector: 'jobtest', job: 'nope', tenant: 'acme', input: {}, trigger: 'cli' }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' })
  })

  it('never runs one job for one tenant on two runners at once; another tenant is not blocked', async () => {
    block()
    const first = a.run({
      connector: 'jobtest',
      job: 'sync',
      tenant: 'acme',
      input: { hold: true },
      trigger: 'cli',
    })
    // Wait until the first run holds the lease (its history row says running).
    for (let i = 0; i < 100 && (await b.history({ tenant: 'acme' }))[0]?.status !== 'running'; i += 1)
      await new Promise((r) => setTimeout(r, 20))
    await expect(
      b.run({ connector: 'jobtest', job: 'sync', tenant: 'acme', input: {}, trigger: 'cli' }),
    ).rejects.toMatchObject({ code: 'CONFLICT' })
    const globex = await b.run({
      connector: 'jobtest',
      job: 'sync',
      tenant: 'globex',
      input: {},
      trigger: 'cli',
    })
    expect(globex.status).toBe('succeeded')
    release()
    expect((await first).status).toBe('succeeded')
    // Released: the other runner may run it now.
    expect(
      (await b.run({ connector: 'jobtest', job: 'sync', tenant: 'acme', input: {}, trigger: 'cli' })).status,
    ).toBe('succeeded')
  })

  it('records a failure, audits it, and releases the lease', async () => {
    const run = await a.run({
      connector: 'jobtest',
      job: 'sync',
      tenant: 'acme',
      input: { fail: true },
      trigger: 'cli',
    })
    expect(run).toMatchObject({ status: 'failed', error: { code: 'BAD_REQUEST', message: 'told to fail' } })
    const events = (await createAuditLog(hub.services.metadata).list('acme', { limit: 5 })).items
    expect(events[0]).toMatchObject({ action: 'job.fail', outcome: 'failure' })
    expect(
      (await b.run({ connector: 'jobtest', job: 'sync', tenant: 'acme', input: {}, trigger: 'cli' })).status,
    ).toBe('succeeded')
  })

  it('runs a scheduled tick once when two replicas fire it', async () => {
    const schedule = { job: 'jobtest:sync', tenant: 'acme', cron: '0 * * * *', input: { n: 1 } }
    // Each replica's timer fires the 12:00 tick at its own wall-clock moment (a few ms apart); the
    // second one only after the first run ended, so the lease cannot be what keeps it from running.
    const tick = Date.UTC(2030, 0, 1, 12)
    const x = await a.fire(schedule, new Date(tick + 3))
    const y = await b.fire(schedule, new Date(tick + 11))
    // Embedded: one replica runs it, the other finds the slot taken. BullMQ: one queued job, both wait on it.
    expect(new Set([x, y].filter((r) => r !== null).map((r) => r.id)).size).toBe(1)
    const ticks = (await a.history({ tenant: 'acme' })).filter((r) => r.trigger === 'schedule')
    expect(ticks).toHaveLength(1)
  })
})

describe.each(['SQLite', 'MariaDB'] as const)('job leases on %s', (store) => {
  let metadata: MetadataStore
  let drop: (() => Promise<void>) | undefined
  let dir: string | undefined

  beforeAll(async () => {
    if (store === 'MariaDB') {
      const db = await createTestDatabase('nl2q_lease')
      drop = db.drop
      metadata = openMetadataStore(db.url)
    } else {
      const { mkdtempSync } = await import('node:fs')
      const { tmpdir } = await import('node:os')
      dir = mkdtempSync(`${tmpdir()}/nl2q-lease-`)
      metadata = openMetadataStore(`sqlite:${dir}/hub.sqlite`)
    }
    await metadata.migrate()
  })
  afterAll(async () => {
    await metadata.close()
    await drop?.()
    if (dir) (await import('node:fs')).rmSync(dir, { recursive: true, force: true })
  })

  it('lets a second holder take an expired lease, and the first can no longer renew it', async () => {
    let clock = 1_000_000
    const leases = leaseStore(metadata.knex, () => clock)
    const first = { job: 'x:y', tenant: 'acme', holder: 'a', runId: 'run-a' }
    const second = { job: 'x:y', tenant: 'acme', holder: 'b', runId: 'run-b' }
    expect(await leases.acquire(first, 1000)).toBe(true)
    expect(await leases.acquire(second, 1000)).toBe(false)
    clock += 999
    expect(await leases.renew(first, 1000)).toBe(true)
    clock += 1001
    expect(await leases.acquire(second, 1000)).toBe(true)
    expect(await leases.renew(first, 1000)).toBe(false)
    await leases.release(first)
    expect(await leases.acquire(first, 1000)).toBe(false)
    await leases.release(second)
    expect(await leases.acquire(first, 1000)).toBe(true)
  })

  it('gives the lease to exactly one of many concurrent takers', async () => {
    const leases = leaseStore(metadata.knex)
    const takers = Array.from({ length: 8 }, (_, i) => ({
      job: 'x:race',
      tenant: 'acme',
      holder: `h${i}`,
      runId: `r${i}`,
    }))
    const won = await Promise.all(takers.map((t) => leases.acquire(t, 60_000)))
    expect(won.filter(Boolean)).toHaveLength(1)
  })
})
