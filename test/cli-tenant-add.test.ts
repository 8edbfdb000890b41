import { createHash } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildHeldoutDb } from './fixtures/heldout-schemas.ts'
import { runHub } from './helpers/cli.ts'
import { createTestDatabase } from './helpers/mysql.ts'
import { createTestPgDatabase } from './helpers/postgres.ts'

/** `hub tenant add` through the real CLI: the bundled-model hint, the datasets, checked examples. */
const home = mkdtempSync(join(tmpdir(), 'nl2q-tenant-add-'))
const hub = (...args: string[]) => runHub(args, { HUB_HOME: home })
let mysql: Awaited<ReturnType<typeof createTestDatabase>>
let pg: Awaited<ReturnType<typeof createTestPgDatabase>>

beforeAll(async () => {
  mysql = await createTestDatabase('nl2q_tenant_add')
  pg = await createTestPgDatabase('nl2q_tenant_add')
  const seeded = await Promise.all([
    hub(
      'demo',
      'seed',
      '--db',
      `sqlite:${join(home, 'pharma.sqlite')}`,
      '--prefix',
      'ACM',
      '--scale',
      '0.02',
    ),
    hub('demo', 'seed', '--db', mysql.url, '--prefix', 'GLX', '--scale', '0.02'),
    hub('demo', 'seed', '--db', pg.url, '--prefix', 'PGX', '--scale', '0.02'),
    buildHeldoutDb('hr', join(home, 'hr.sqlite')),
  ])
  for (const r of seeded.slice(0, 3)) expect((r as { code: number; stderr: string }).code).toBe(0)
}, 120_000)

afterAll(async () => {
  await mysql?.drop()
  await pg?.drop()
  rmSync(home, { recursive: true, force: true })
})

/** The `hub ask --tenant` lines `tenant add` printed, as plain questions. */
function examplesOf(stdout: string, id: string): string[] {
  return [...stdout.matchAll(new RegExp(`hub ask --tenant ${id} "([^"]+)"`, 'g'))].map((m) => m[1] as string)
}

async function expectAnswered(id: string, questions: string[]) {
  const file = join(home, `${id}-examples.txt`)
  writeFileSync(file, questions.join('\n'))
  const r = await hub('ask', '--tenant', id, '--json', '--batch', file)
  expect(r.code, r.stderr).toBe(0)
  const answers = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { ok: boolean; rows: unknown[] })
  expect(answers).toHaveLength(questions.length)
  for (const a of answers) expect(a.ok && a.rows.length > 0, JSON.stringify(a)).toBe(true)
}

/** Each example `tenant add` ran left a `data.ask` record (channel cli) in the tenant's chain. */
async function expectAuditedAsks(id: string, questions: string[]) {
  const r = await hub('audit', 'list', '--tenant', id, '--action', 'data.ask', '--limit', '100', '--json')
  expect(r.code, r.stderr).toBe(0)
  const events = r.stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { channel: string; outcome: string; questionHash: string | null })
  const hashes = new Set(
    events.filter((e) => e.channel === 'cli' && e.outcome === 'success').map((e) => e.questionHash),
  )
  for (const q of questions) expect(hashes.has(createHash('sha256').update(q).digest('hex')), q).toBe(true)
  const verify = await hub('audit', 'verify', '--tenant', id)
  expect(verify.code, verify.stdout).toBe(0)
}

describe('hub tenant add', () => {
  it.each([
    ['sqlite', 'p-sqlite', () => `sqlite:${join(home, 'pharma.sqlite')}`],
    ['mysql', 'p-mysql', () => mysql.url],
    ['postgresql', 'p-postgres', () => pg.url.replace(/^postgres:/, 'postgresql:')],
  ])(
    'suggests --model pharma for a %s database with the pharma tables, lists datasets and examples that answer',
    async (_, id, url) => {
      const r = await hub('tenant', 'add', id, '--db', url())
      expect(r.code, r.stderr).toBe(0)
      expect(r.stdout).toContain(`hub tenant set-model ${id} pharma`)
      expect(r.stdout).toMatch(/--model pharma/)
      for (const d of ['prescriptions', 'hcps', 'calls', 'products'])
        expect(r.stdout).toMatch(new RegExp(`^  ${d} `, 'm'))
      const examples = examplesOf(r.stdout, id)
      expect(examples.length).toBeGreaterThanOrEqual(3)
      await expectAuditedAsks(id, examples)
      await expectAnswered(id, examples)
    },
    120_000,
  )

  it('makes the suggestion take effect with tenant set-model, and gives no hint once the model is named', async () => {
    const set = await hub('tenant', 'set-model', 'p-sqlite', 'pharma')
    expect(set.code).toBe(0)
    // no HUB_REDIS_URL here: nothing tells a running hub, the admin must refresh
    expect(set.stdout).toContain('POST /v1/admin/refresh')
    const list = JSON.parse((await hub('tenant', 'list', '--json')).stdout) as {
      id: string
      model: string | null
    }[]
    expect(list.find((t) => t.id === 'p-sqlite')?.model).toBe('pharma')
    const r = await hub(
      'tenant',
      'add',
      'p-named',
      '--db',
      `sqlite:${join(home, 'pharma.sqlite')}`,
      '--model',
      'pharma',
    )
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).not.toContain('hint:')
    expect(examplesOf(r.stdout, 'p-named').length).toBeGreaterThanOrEqual(3)
    const bad = await hub('tenant', 'set-model', 'p-sqlite', 'no-such-model')
    expect(bad.code).not.toBe(0)
    const badId = await hub('tenant', 'add', 'Bad_Id', '--db', `sqlite:${join(home, 'pharma.sqlite')}`)
    expect(badId.code).toBe(2)
    expect(badId.stderr).toMatch(/lower-case letters.*\[VALIDATION_FAILED\]/)
  }, 120_000)

  it('gives no pharma hint for another schema and still prints examples that answer', async () => {
    const r = await hub('tenant', 'add', 'hr', '--db', `sqlite:${join(home, 'hr.sqlite')}`)
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).not.toContain('pharma')
    const examples = examplesOf(r.stdout, 'hr')
    expect(examples.length).toBeGreaterThan(0)
    await expectAnswered('hr', examples)
  }, 120_000)
})
