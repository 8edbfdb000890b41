/**
 * The conformance suite every connector runs (`@nl2q/core/testing`), like unstorage's shared
 * driver tests: a real demo hub (SQLite, tenants acme and globex) with the connector mounted, and
 * checks that hold for any connector — its context is the narrow one, it cannot read another
 * tenant's state or secrets, its data reads are audited, `setup` is idempotent, and its routes
 * refuse calls without a credential. Call it inside a vitest file.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAuditLog } from '../audit/index.ts'
import { loadConfig } from '../config/index.ts'
import { connectorRuntime, hubInfo } from '../connectors/context.ts'
import type { Connector } from '../connectors/contract.ts'
import { secretAdmin } from '../connectors/secret-store.ts'
import { localPrincipal } from '../principal.ts'
import { secretBoxFor } from '../secrets/index.ts'
import { createLogger } from '../service/logger.ts'
import { createHubApp, type RunningHub } from '../service/server.ts'

/** A call the connector serves with data; `send` gets a fetch that carries the tenant's admin key. */
export interface DataCall {
  name: string
  send(request: (path: string, init?: RequestInit) => Promise<Response>): Promise<Response>
}

export interface ConnectorTestOptions {
  /** A fresh connector per hub (the suite starts the hub twice on one store). */
  connector: () => Connector
  /** Extra environment for the hub (`HUB_<NAME>_*`). */
  env?: Record<string, string>
  /** Routes that are public by design (metadata documents, downloads); every other must answer 401. */
  publicPaths?: string[]
  /** Calls that read tenant data: each must succeed and leave an audit record on the caller's chain. */
  dataCalls?: DataCall[]
  /** Input per job for the job checks (default `{}`). */
  jobInputs?: Record<string, unknown>
  /** Connector secrets per tenant, set before the checks run (`home` is the hub's HUB_HOME). */
  secrets?: (home: string) => Record<string, Record<string, string>>
}

/** What a route context may hold, and nothing else. */
const ROUTE_CONTEXT_KEYS = ['audit', 'config', 'hub', 'logger', 'metrics', 'secrets', 'security', 'state']
const SETUP_CONTEXT_KEYS = ['config', 'hub', 'logger', 'metrics']

/** Hono path → a concrete path to probe (`:name` → `x`, `*` → `x`). */
const concrete = (path: string) => path.replace(/:[^/]+/g, 'x').replace(/\*/g, 'x')

export function testConnector(options: ConnectorTestOptions): void {
  const name = options.connector().name
  describe(`connector ${name} (conformance)`, () => {
    let home: string
    let running: RunningHub
    let keys: Record<string, string>
    const seen: { route?: object; setups: number; setup?: object } = { setups: 0 }
    // The unauthenticated probes are many calls from one address: a budget for them, not the default 10.
    const env = () => ({
      HUB_HOME: home,
      HUB_DEMO: '1',
      HUB_LOG_LEVEL: 'silent',
      HUB_RATE_LIMIT_ANON: '1000',
      ...options.env,
    })

    /** The connector with its hooks observed (what the core hands it). */
    function observed(): Connector {
      const connector = options.connector()
      const { routes, setup } = connector
      return {
        ...connector,
        ...(routes && {
          routes(app, ctx) {
            seen.route = ctx
            routes.call(connector, app, ctx)
          },
        }),
        async setup(ctx) {
          seen.setups += 1
          seen.setup = ctx
          await setup?.call(connector, ctx)
        },
      }
    }

    const start = () =>
      createHubApp(loadConfig(env()), {
        connectors: [observed()],
        env: env(),
        logger: createLogger('silent'),
      })

    beforeAll(async () => {
      home = mkdtempSync(join(tmpdir(), `nl2q-conformance-${name}-`))
      running = await start()
      keys = Object.fromEntries(running.demoKeys.map((k) => [k.tenant, k.secret]))
      if (options.secrets) {
        const admin = secretAdmin(running.services.metadata.knex, secretBoxFor(running.services.config))
        for (const [tenant, values] of Object.entries(options.secrets(home)))
          for (const [key, value] of Object.entries(values)) await admin.set(name, tenant, key, value)
      }
    })
    afterAll(async () => {
      await running?.close()
      rmSync(home, { recursive: true, force: true })
    })

    const scopeOf = (tenant: string) => {
      const { services } = running
      const config = services.config
      return connectorRuntime(
        {
          hub: services.hub,
          knex: services.metadata.knex,
          secrets: secretBoxFor(config),
          registry: services.metrics.registry,
          logger: services.logger,
          info: hubInfo(config),
          env: env(),
        },
        options.connector(),
      ).scope(localPrincipal(tenant, ['integration']), {
        requestId: 'conformance',
        clientIp: null,
        channel: name,
      })
    }

    it('gets only the narrow context: no metadata store, no hub configuration, no tenant pools', () => {
      expect(Object.keys(seen.setup ?? {}).sort()).toEqual(SETUP_CONTEXT_KEYS)
      if (seen.route) expect(Object.keys(seen.route).sort()).toEqual(ROUTE_CONTEXT_KEYS)
      const text = JSON.stringify({ setup: seen.setup, route: seen.route }, (k, v) =>
        k === 'logger' ? undefined : v,
      )
      for (const secret of ['databaseUrl', 'jwt', 'HUB_SECRET', 'knex', 'db_url', 'sqlite:']) {
        expect(text).not.toContain(secret)
      }
    })

    it('runs setup before listening, and again on a restart over the same store (idempotent)', async () => {
      expect(seen.setups).toBe(1)
      const again = await start()
      await again.close()
      expect(seen.setups).toBe(2)
    })

    it("cannot read another tenant's state", async () => {
      const acme = await scopeOf('acme')
      const globex = await scopeOf('globex')
      await acme.state.set('conformance', { owner: 'acme' })
      await acme.state.table('conformance').put('row', { owner: 'acme' })
      expect(await globex.state.get('conformance')).toBeUndefined()
      expect(await globex.state.table('conformance').get('row')).toBeUndefined()
      expect(await globex.state.table('conformance').list()).toEqual([])
      await globex.state.set('conformance', { owner: 'globex' })
      expect(await acme.state.get('conformance')).toEqual({ owner: 'acme' })
    })

    it("cannot read another tenant's secrets, nor another connector's", async () => {
      const { services } = running
      const admin = secretAdmin(services.metadata.knex, secretBoxFor(services.config))
      await admin.set(name, 'globex', 'conformance_token', 'globex-only')
      await admin.set(`${name}other`, 'acme', 'conformance_token', 'other-connector-only')
      const acme = await scopeOf('acme')
      const globex = await scopeOf('globex')
      expect(await acme.secrets.get('conformance_token')).toBeUndefined()
      expect(await globex.secrets.get('conformance_token')).toBe('globex-only')
      // Sealed at rest: the plaintext is nowhere in the table.
      const rows = (await services.metadata.knex('connector_secrets').select('value')) as { value: string }[]
      expect(rows.every((r) => !r.value.includes('only'))).toBe(true)
    })

    it('appends audit events to the bound tenant only', async () => {
      const log = createAuditLog(running.services.metadata)
      const before = (await log.list('globex', { limit: 1000 })).items.length
      const acme = await scopeOf('acme')
      await acme.audit.append({ action: `${name}.conformance`, outcome: 'success' })
      expect((await log.list('acme', { limit: 5 })).items[0]).toMatchObject({ action: `${name}.conformance` })
      expect((await log.list('globex', { limit: 1000 })).items.length).toBe(before)
    })

    it.skipIf(!options.connector().routes)(
      'refuses calls without a credential on every route it mounts',
      async () => {
        const bare = await createHubApp(loadConfig({ ...env(), HUB_DEMO: '0' }), {
          noConnectors: true,
          logger: createLogger('silent'),
        })
        const core = new Set(bare.app.routes.map((r) => `${r.method} ${r.path}`))
        await bare.close()
        const own = running.app.routes.filter(
          (r) => !core.has(`${r.method} ${r.path}`) && !(options.publicPaths ?? []).includes(r.path),
        )
        expect(own.length).toBeGreaterThan(0)
        for (const route of own) {
          const method = route.method === 'ALL' ? 'GET' : route.method
          const res = await running.app.request(`http://localhost${concrete(route.path)}`, { method })
          expect({ route: `${route.method} ${route.path}`, status: res.status }).toEqual({
            route: `${route.method} ${route.path}`,
            status: 401,
          })
        }
      },
    )

    for (const job of Object.keys(options.connector().jobs ?? {})) {
      it(`runs job ${job} as the tenant's integration principal, audited, touching that tenant's state only`, async () => {
        const { knex } = running.services.metadata
        const stateOf = async (tenant: string) =>
          JSON.stringify(
            await knex('connector_state').where({ connector: name, tenant }).orderBy(['tbl', 'id']),
          )
        const globex = await stateOf('globex')
        const run = await running.jobs.run({
          connector: name,
          job,
          tenant: 'acme',
          input: options.jobInputs?.[job] ?? {},
          trigger: 'cli',
        })
        expect(run).toMatchObject({ status: 'succeeded', tenant: 'acme' })
        const events = (
          await createAuditLog(running.services.metadata).list('acme', { limit: 1000 })
        ).items.filter((e) => e.requestId === run.id)
        expect(events.map((e) => e.action)).toContain('job.start')
        expect(events.map((e) => e.action)).toContain('job.finish')
        expect(events.every((e) => e.channel === name && e.subject === `job:${name}:${job}`)).toBe(true)
        expect(await stateOf('globex')).toBe(globex)
      })
    }

    for (const call of options.dataCalls ?? []) {
      it(`reads data only through the audited hub: ${call.name}`, async () => {
        const log = createAuditLog(running.services.metadata)
        const count = async () =>
          (await log.list('acme', { limit: 1000 })).items.filter((e) => e.action.startsWith('data.')).length
        const before = await count()
        const res = await call.send((path, init = {}) => {
          const headers = new Headers(init.headers)
          headers.set('authorization', `Bearer ${keys.acme}`)
          return Promise.resolve(running.app.request(`http://localhost${path}`, { ...init, headers }))
        })
        expect(res.status).toBeLessThan(300)
        await res.arrayBuffer()
        expect(await count()).toBeGreaterThan(before)
        const latest = (await log.list('acme', { limit: 1 })).items[0]
        expect(latest?.channel).toBe(name)
      })
    }
  })
}
