import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openMetadataStore } from '../packages/core/src/metadata/store.ts'
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
