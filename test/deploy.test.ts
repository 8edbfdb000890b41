import { spawnSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { DockerfileParser } from 'dockerfile-ast'
import { validate } from 'dockerfile-utils'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'

const root = join(import.meta.dirname, '..')
const dockerfile = readFileSync(join(root, 'deploy/Dockerfile'), 'utf8')
// `merge`: the hub replicas share one `x-hub` block through a YAML merge key
const compose = parse(readFileSync(join(root, 'deploy/compose.yaml'), 'utf8'), { merge: true }) as {
  services: Record<string, Record<string, unknown>>
  secrets: Record<string, { file: string }>
}

describe('deploy/Dockerfile', () => {
  it('has no diagnostics from the Dockerfile language service', () => {
    const problems = validate(dockerfile).map((d) => `${d.range.start.line + 1}: ${d.message}`)
    expect(problems).toEqual([])
  })

  it('is multi-stage, runs as a non-root user and declares a health check', () => {
    const ast = DockerfileParser.parse(dockerfile)
    const froms = ast.getFROMs()
    expect(froms.length).toBeGreaterThanOrEqual(2)
    const last = froms.at(-1)!
    const finalStage = ast
      .getInstructions()
      .filter((i) => i.getRange().start.line >= last.getRange().start.line)
    const user = finalStage.filter((i) => i.getKeyword() === 'USER').at(-1)
    expect(user?.getArgumentsContent()).toBeDefined()
    expect(['root', '0']).not.toContain(user?.getArgumentsContent())
    expect(finalStage.some((i) => i.getKeyword() === 'HEALTHCHECK')).toBe(true)
    // the runtime stage takes dependencies from the build stage instead of installing a toolchain
    expect(finalStage.some((i) => i.getKeyword() === 'COPY' && /--from=deps/.test(i.getTextContent()))).toBe(
      true,
    )
    expect(finalStage.some((i) => /g\+\+|build-essential/.test(i.getTextContent()))).toBe(false)
  })

  it('builds and ships every workspace package (manifest, sources, build config, compiled dist)', () => {
    const packages = readdirSync(join(root, 'packages'), { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
    expect(packages.length).toBeGreaterThanOrEqual(4)
    for (const pkg of packages) {
      for (const line of [
        `COPY packages/${pkg}/package.json packages/${pkg}/package.json`,
        `COPY packages/${pkg}/tsconfig.build.json packages/${pkg}/`,
        `COPY packages/${pkg}/src packages/${pkg}/src`,
        `COPY --from=build /app/packages/${pkg}/dist ./packages/${pkg}/dist`,
      ])
        expect(dockerfile, pkg).toContain(line)
    }
    // the CRM widget's bundle is built by a script of the package (pnpm run build) and served from assets/
    expect(dockerfile).toContain('COPY packages/connectors/scripts packages/connectors/scripts')
    expect(dockerfile).toContain(
      'COPY --from=build /app/packages/connectors/assets ./packages/connectors/assets',
    )
  })

  it('starts the same entry point as the README (the compiled hub CLI start command)', () => {
    expect(dockerfile).toMatch(/CMD \["node", "packages\/core\/dist\/cli\/main\.js", "start"\]/)
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>
    }
    expect(pkg.scripts.start).toBe('node packages/core/dist/cli/main.js start')
  })
})

describe('deploy/compose.yaml', () => {
  it('passes dclint (Compose Specification schema and best-practice rules) with no warnings', () => {
    const bin = join(root, 'node_modules/.bin/dclint')
    const run = spawnSync(bin, ['--max-warnings', '0', '-f', 'json', 'deploy/compose.yaml'], {
      cwd: root,
      encoding: 'utf8',
    })
    const report = JSON.parse(run.stdout || '[]') as { messages: { message: string }[] }[]
    expect(report.flatMap((f) => f.messages.map((m) => m.message))).toEqual([])
    expect(run.status).toBe(0)
  })

  it('runs two hub replicas behind a load balancer, MariaDB and Redis shared, secrets from files', () => {
    const { lb, mariadb, redis } = compose.services
    const hubs = Object.keys(compose.services).filter((n) => /^hub-\d+$/.test(n))
    expect(hubs.length).toBe(2)
    for (const name of hubs) {
      const hub = compose.services[name]!
      const env = hub.environment as Record<string, string>
      expect(env.HUB_DATABASE_URL).toBeUndefined()
      expect(env.HUB_REDIS_URL).toBeUndefined()
      expect(env.HUB_DATABASE_URL_FILE).toMatch(/^\/run\/secrets\//)
      expect(env.HUB_REDIS_URL_FILE).toMatch(/^\/run\/secrets\//)
      expect(hub.depends_on).toEqual({
        mariadb: { condition: 'service_healthy' },
        redis: { condition: 'service_healthy' },
      })
      expect(hub.healthcheck).toBeDefined()
      // one checkpoint key for every replica, copied from the secret, then the README's entry point
      expect((hub.command as string[]).at(-1)).toMatch(
        /\/run\/secrets\/audit_checkpoint_key .*audit-checkpoint\.key && exec .*cli\/main\.js start$/,
      )
    }
    expect(mariadb!.healthcheck).toBeDefined()
    expect(redis!.healthcheck).toBeDefined()
    const nginx = readFileSync(join(root, 'deploy/nginx.conf'), 'utf8')
    for (const name of hubs) expect(nginx).toContain(`server ${name}:8080`)
    expect(lb!.volumes).toContain('./nginx.conf:/etc/nginx/nginx.conf:ro')
    for (const s of Object.values(compose.secrets)) expect(s.file).toMatch(/^\.\/secrets\//)
  })
})
