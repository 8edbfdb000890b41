import { copyFileSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../packages/core/src/config/index.ts'
import { createLogger } from '../packages/core/src/service/logger.ts'
import { createHubApp } from '../packages/core/src/service/server.ts'
import { DEMO_CACHE } from './global-setup.ts'
import { runHub } from './helpers/cli.ts'

const home = mkdtempSync(join(tmpdir(), 'nl2q-tenant-cli-'))
const demoDb = join(home, 'acme-copy.sqlite')
copyFileSync(join(DEMO_CACHE, 'acme.sqlite'), demoDb)
afterAll(() => rmSync(home, { recursive: true, force: true }))

/** The real `hub` CLI on this test's HUB_HOME (no demo tenants). */
const hub = (...args: string[]) => runHub(args, { HUB_HOME: home, HUB_DEMO: '0' })
const listed = async () => JSON.parse((await hub('tenant', 'list', '--json')).stdout) as { id: string }[]

describe('hub tenant add', () => {
  it.each([
    ['an unreachable database', ['--db', 'mysql://root@127.0.0.1:1/nowhere'], /ECONNREFUSED/],
    ['a URL of an unknown kind', ['--db', 'postgres://u:p@127.0.0.1/x'], /VALIDATION_FAILED|CONFIG|URL|url/],
    [
      'a SQLite file that does not exist',
      ['--db', `sqlite:${join(home, 'missing.sqlite')}`],
      /SQLITE_CANTOPEN/,
    ],
    ['an unknown overrides model', ['--db', `sqlite:${demoDb}`, '--model', 'no-such-model'], /no-such-model/],
  ])('does not register the tenant when given %s', async (_, args, message) => {
    const r = await hub('tenant', 'add', 'broken', ...args)
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(message)
    expect(await listed()).toEqual([])
  })

  it('registers a tenant whose data source opens, and names its dataset count', async () => {
    const r = await hub('tenant', 'add', 'acme', '--db', `sqlite:${demoDb}`, '--model', 'pharma')
    expect(r.stderr).toBe('')
    expect(r.stdout).toMatch(/^tenant acme added \(sqlite\); \d+ datasets/)
    expect((await listed()).map((t) => t.id)).toEqual(['acme'])
  })
})

describe('hub tenant remove', () => {
  it('revokes the keys, stops a running hub serving the tenant, keeps its audit chain, and never reuses the id', async () => {
    const key = (await hub('key', 'create', '--tenant', 'acme', '--role', 'admin', '--json')).stdout
    const secret = (JSON.parse(key) as { secret: string }).secret
    const running = await createHubApp(
      loadConfig({ HUB_HOME: home, HUB_DEMO: '0', HUB_LOG_LEVEL: 'silent' }),
      {
        logger: createLogger('silent'),
        noConnectors: true,
      },
    )
    try {
      const ask = () =>
        running.app.request('/v1/ask', {
          method: 'POST',
          headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
          body: JSON.stringify({ question: 'How many HCPs are there?' }),
        })
      expect((await ask()).status).toBe(200)
      const rt = await running.services.tenants.runtime('acme')

      const removed = await hub('tenant', 'remove', 'acme')
      expect(removed.stderr).toBe('')
      expect(removed.stdout).toContain('tenant acme removed; 1 API key(s) revoked')

      expect((await ask()).status).toBe(401)
      await expect(running.services.tenants.runtime('acme')).rejects.toMatchObject({ code: 'NOT_FOUND' })
      // The running hub closed the removed tenant's pool on that request.
      await expect(rt.ds.knex.raw('select 1')).rejects.toThrow()
    } finally {
      await running.close()
    }
    expect(await listed()).toEqual([])
    const verified = await hub('audit', 'verify', '--tenant', 'acme', '--json')
    expect(verified.code).toBe(0)
    expect(JSON.parse(verified.stdout)).toMatchObject({ ok: true })
    const trail = (await hub('audit', 'list', '--tenant', 'acme', '--json')).stdout
    expect(trail).toContain('"action":"tenant.remove"')
    expect(trail).toContain('"action":"data.ask"')

    const again = await hub('tenant', 'add', 'acme', '--db', `sqlite:${demoDb}`)
    expect(again.code).toBe(2)
    expect(again.stderr).toContain('[CONFLICT]')
    expect((await hub('tenant', 'remove', 'acme')).stderr).toContain('[NOT_FOUND]')
  })
})
