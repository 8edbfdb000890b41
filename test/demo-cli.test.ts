import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { openDataSource } from '../packages/core/src/db/index.ts'
import { runHub } from './helpers/cli.ts'

const dir = mkdtempSync(join(tmpdir(), 'nl2q-demo-cli-'))

/** Run the real `hub` CLI (not a TTY here: no progress bar, one summary line). */
const hub = (...args: string[]) => runHub(args, { HUB_HOME: dir })

afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('hub demo seed', () => {
  const db = `sqlite:${join(dir, 'demo.sqlite')}`

  it('seeds a database URL and prints a one-line summary when stdout is not a terminal', async () => {
    const r = await hub('demo', 'seed', '--db', db, '--prefix', 'GLX', '--scale', '0.02')
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(r.stdout.trim().split('\n')).toHaveLength(1)
    expect(r.stdout).toMatch(
      /^seeded pharma demo \(prefix GLX, seed \d+, scale 0\.02\).*hcps 40, .*calls 800/,
    )
    const ds = openDataSource(db)
    try {
      const [row] = (await ds.knex('hcps').count({ n: '*' }).whereLike('hcp_id', 'GLX-%')) as { n: number }[]
      expect(Number(row?.n)).toBe(40)
    } finally {
      await ds.knex.destroy()
    }
  })

  it('refuses to seed over an existing demo without --replace, and replaces it with it', async () => {
    const refused = await hub('demo', 'seed', '--db', db, '--prefix', 'ACM', '--scale', '0.02')
    expect(refused.code).toBe(2)
    expect(refused.stderr).toContain('[CONFLICT]')
    const replaced = await hub('demo', 'seed', '--db', db, '--prefix', 'ACM', '--scale', '0.02', '--replace')
    expect(replaced.code).toBe(0)
    expect(replaced.stdout).toContain('prefix ACM')
  })

  it('needs exactly one of --tenant and --db', async () => {
    const r = await hub('demo', 'seed', '--scale', '0.02')
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('[VALIDATION_FAILED]')
  })
})
