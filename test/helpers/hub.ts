import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Logger } from 'pino'
import { loadConfig } from '../../packages/core/src/config/index.ts'
import type { Connector } from '../../packages/core/src/connectors/contract.ts'
import { createLogger } from '../../packages/core/src/service/logger.ts'
import { createHubApp, type RunningHub } from '../../packages/core/src/service/server.ts'
import { DEMO_CACHE } from '../global-setup.ts'

export interface TestHub extends RunningHub {
  home: string
  /** Admin API keys of the demo tenants, by tenant id. */
  keys: Record<string, string>
  /** `app.request` with `Authorization: Bearer <key>` and JSON handling. */
  call(path: string, init?: RequestInit & { key?: string; json?: unknown }): Promise<Response>
}

export interface TestHubOptions {
  env?: Record<string, string>
  /** Generate (copy) the demo tenants acme and globex. Default true. */
  demo?: boolean
  /**
   * Let the hub generate the demo tenants itself, as a first start does, with data ending at the
   * last complete week before today (not the suite's fixed seed date): slower, for the README.
   */
  freshDemo?: boolean
  connectors?: Connector[]
  /** Load no connector packages (default true: core tests do not depend on connectors). */
  noConnectors?: boolean
  logger?: Logger
}

/**
 * A real hub in-process on a fresh HUB_HOME with the demo tenants (their databases are copied from
 * the cache that test/global-setup.ts generates once). Nothing is mocked.
 */
export async function createTestHub(options: TestHubOptions = {}): Promise<TestHub> {
  const home = mkdtempSync(join(tmpdir(), 'nl2q-hub-'))
  const demo = options.demo !== false
  if (demo && !options.freshDemo) {
    mkdirSync(join(home, 'tenants'), { recursive: true })
    for (const id of ['acme', 'globex'])
      copyFileSync(join(DEMO_CACHE, `${id}.sqlite`), join(home, 'tenants', `${id}.sqlite`))
  }
  const env = {
    HUB_HOME: home,
    HUB_DEMO: demo ? '1' : '0',
    HUB_LOG_LEVEL: 'silent',
    ...options.env,
  }
  const config = loadConfig(env)
  const fixedSeedDate = process.env.NL2Q_DEMO_SEED_DATE
  if (options.freshDemo) delete process.env.NL2Q_DEMO_SEED_DATE
  const hub = await createHubApp(config, {
    env,
    logger: options.logger ?? createLogger('silent'),
    connectors: options.connectors,
    noConnectors: options.noConnectors ?? options.connectors === undefined,
  }).finally(() => {
    if (fixedSeedDate !== undefined) process.env.NL2Q_DEMO_SEED_DATE = fixedSeedDate
  })
  const keys = Object.fromEntries(hub.demoKeys.map((k) => [k.tenant, k.secret]))
  return {
    ...hub,
    home,
    keys,
    call(path, init = {}) {
      const { key, json, ...rest } = init
      const headers = new Headers(rest.headers)
      if (key) headers.set('authorization', `Bearer ${key}`)
      if (json !== undefined) headers.set('content-type', 'application/json')
      return Promise.resolve(
        hub.app.request(path, {
          ...rest,
          headers,
          ...(json !== undefined ? { body: JSON.stringify(json) } : {}),
        }),
      )
    },
    async close() {
      await hub.close()
      rmSync(home, { recursive: true, force: true })
    },
  }
}
