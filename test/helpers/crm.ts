/**
 * A demo hub (SQLite, tenants acme and globex) with the crm connector, a Salesforce emulator per
 * test org, an RSA key pair for JWT bearer, and helpers to point a tenant at an org and a write target.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { exportJWK, exportPKCS8, generateKeyPair } from 'jose'
import type { Knex } from 'knex'
import type { CrmConfig } from '../../packages/connectors/src/crm/config.ts'
import crmConnector from '../../packages/connectors/src/crm/index.ts'
import {
  type SalesforceEmulator,
  startSalesforceEmulator,
} from '../../packages/connectors/src/crm/testing/emulator/server.ts'
import { loadConfig } from '../../packages/core/src/config/index.ts'
import { setTenantSettings } from '../../packages/core/src/connectors/config-section.ts'
import { connectorRuntime, hubInfo } from '../../packages/core/src/connectors/context.ts'
import type { TenantScope } from '../../packages/core/src/connectors/contract.ts'
import { secretAdmin } from '../../packages/core/src/connectors/secret-store.ts'
import { openDataSource } from '../../packages/core/src/db/knex.ts'
import { pharmaDdl } from '../../packages/core/src/demo/schema.ts'
import { localPrincipal } from '../../packages/core/src/principal.ts'
import { secretBoxFor } from '../../packages/core/src/secrets/index.ts'
import { createLogger } from '../../packages/core/src/service/logger.ts'
import { createHubApp, type RunningHub } from '../../packages/core/src/service/server.ts'

export const client_id = '3MVG9-nl2q-test-app'
export const username = 'integration@nl2q.test'
export const CLIENT_SECRET = 'client-secret-for-tests'

export interface CrmHarness {
  home: string
  running: RunningHub
  env: Record<string, string>
  privateKey: string
  startOrg(): Promise<SalesforceEmulator>
  /** Point a tenant at an org (login URL) and a write target; `settings` go to its connector config. */
  connect(
    tenant: string,
    org: SalesforceEmulator,
    targetUrl: string,
    settings?: Record<string, string>,
  ): Promise<void>
  setSecret(tenant: string, name: string, value: string): Promise<void>
  scope(tenant: string): Promise<TenantScope<CrmConfig>>
  close(): Promise<void>
}

export async function startCrmHarness(extraEnv: Record<string, string> = {}): Promise<CrmHarness> {
  const home = mkdtempSync(join(tmpdir(), 'nl2q-crm-'))
  const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true })
  const pem = await exportPKCS8(privateKey)
  const jwk = await exportJWK(publicKey)
  const env: Record<string, string> = {
    HUB_HOME: home,
    HUB_DEMO: '1',
    HUB_LOG_LEVEL: 'silent',
    HUB_CRM_CLIENT_ID: client_id,
    HUB_CRM_USERNAME: username,
    HUB_CRM_POLL_MS: '20',
    HUB_CRM_RETRY_BASE_MS: '20',
    HUB_CRM_SLOW_DELAY_MS: '20',
    ...extraEnv,
  }
  const running = await createHubApp(loadConfig(env), {
    connectors: [crmConnector],
    env,
    logger: createLogger('silent'),
  })
  const { services } = running
  const admin = secretAdmin(services.metadata.knex, secretBoxFor(services.config))
  const runtime = () =>
    connectorRuntime(
      {
        hub: services.hub,
        knex: services.metadata.knex,
        secrets: secretBoxFor(services.config),
        registry: services.metrics.registry,
        logger: services.logger,
        info: hubInfo(services.config),
        env,
      },
      crmConnector,
    )
  const orgs: SalesforceEmulator[] = []
  const harness: CrmHarness = {
    home,
    running,
    env,
    privateKey: pem,
    async startOrg() {
      const org = await startSalesforceEmulator({
        app: { clientId: client_id, clientSecret: CLIENT_SECRET, publicJwk: jwk, username: username },
      })
      orgs.push(org)
      return org
    },
    async connect(tenant, org, targetUrl, settings = {}) {
      await admin.set('crm', tenant, 'private_key', pem)
      await admin.set('crm', tenant, 'client_secret', CLIENT_SECRET)
      await admin.set('crm', tenant, 'sync_target_url', targetUrl)
      await setTenantSettings(services.metadata.knex, crmConnector, {}, tenant, {
        login_url: org.url,
        ...settings,
      })
    },
    setSecret: (tenant, name, value) => admin.set('crm', tenant, name, value),
    scope: (tenant) =>
      runtime().scope(localPrincipal(tenant, ['integration']), {
        requestId: `crm-test-${tenant}`,
        clientIp: null,
        channel: 'crm',
      }),
    async close() {
      for (const org of orgs) await org.close()
      await running.close()
      rmSync(home, { recursive: true, force: true })
    },
  }
  return harness
}

/** A fresh, empty pharma schema in a new SQLite file. */
export async function emptySqliteTarget(dir: string, name: string): Promise<{ url: string; knex: Knex }> {
  const url = `sqlite:${join(dir, `${name}.sqlite`)}`
  const ds = openDataSource(url)
  const ddl = pharmaDdl('sqlite')
  for (const s of [...ddl.create, ...ddl.finish]) await ds.knex.raw(s)
  return { url, knex: ds.knex }
}

/** A fresh MariaDB database with the pharma schema (tables, keys, foreign keys); drop() in afterAll. */
export async function emptyMysqlTarget(): Promise<{ url: string; knex: Knex; drop(): Promise<void> }> {
  const { createTestDatabase } = await import('../../packages/core/src/testing/test-databases.ts')
  const db = await createTestDatabase('nl2q_crm')
  const ds = openDataSource(db.url)
  const ddl = pharmaDdl('mysql')
  for (const s of [...ddl.create, ...ddl.finish]) await ds.knex.raw(s)
  return {
    url: db.url,
    knex: ds.knex,
    async drop() {
      await ds.knex.destroy()
      await db.drop()
    },
  }
}
