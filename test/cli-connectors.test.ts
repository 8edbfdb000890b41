import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Command } from 'commander'
import { afterAll, describe, expect, it } from 'vitest'
import { commandContext } from '../packages/core/src/cli/hub-runtime.ts'
import { loadConnectors, readConnectorManifests } from '../packages/core/src/connectors/loader.ts'
import { createLogger } from '../packages/core/src/service/logger.ts'
import { buildMez } from '../packages/powerbi-connector/src/mez/build.ts'
import { runHub } from './helpers/cli.ts'

const dir = mkdtempSync(join(tmpdir(), 'nl2q-cli-connectors-'))
const hub = (env: Record<string, string>, ...args: string[]) => runHub(args, { HUB_HOME: dir, ...env })

afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('connector commands in the hub CLI', () => {
  it('lists a connector command in the help', async () => {
    const r = await hub({}, '--help')
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/^\s+powerbi\s+Power BI/m)
    expect(r.stdout).toMatch(/^\s+demo\s/m)
  })

  it('declares in package.json exactly the commands each bundled connector registers (help lists them unloaded)', async () => {
    const root = join(import.meta.dirname, '..')
    const manifests = readConnectorManifests(undefined, root)
    expect(manifests.map((m) => m.name)).toEqual([
      '@nl2q/mcp-server',
      '@nl2q/powerbi-connector',
      '@nl2q/connectors/crm',
      '@nl2q/connectors/boast',
      '@nl2q/connectors/m365',
    ])
    for (const m of manifests) {
      const [connector] = await loadConnectors([m.name], root)
      const program = new Command()
      if (connector) connector.commands?.(program, commandContext(connector, createLogger('silent')))
      expect(Object.fromEntries(program.commands.map((c) => [c.name(), c.description()])), m.name).toEqual(
        m.commands,
      )
    }
  })

  it('builds NL2Q.mez where --out says, the same bytes the hub serves', async () => {
    const out = join(dir, 'sub', 'NL2Q.mez')
    const r = await hub({}, 'powerbi', 'build-mez', '--out', out)
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(r.stdout).toContain(out)
    const written = readFileSync(out)
    expect(written.subarray(0, 4).toString('latin1')).toBe('PK\u0003\u0004')
    expect(Buffer.compare(written, Buffer.from(buildMez()))).toBe(0)
  })

  it('has no command of a connector that HUB_CONNECTORS leaves out', async () => {
    const r = await hub(
      { HUB_CONNECTORS: '@nl2q/mcp-server' },
      'powerbi',
      'build-mez',
      '--out',
      join(dir, 'x.mez'),
    )
    expect(r.code).not.toBe(0)
    expect(r.stderr).toContain("unknown command 'powerbi'")
  })

  it('names a connector package that cannot be found', async () => {
    const r = await hub({ HUB_CONNECTORS: '@nl2q/nope' }, 'nope')
    expect(r.code).toBe(2)
    expect(r.stderr).toContain("cannot find the package '@nl2q/nope'")
  })
})
