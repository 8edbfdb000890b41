import { join } from 'node:path'
import { testConnector } from '@nl2q/core/testing'
import { exportJWK, exportPKCS8, generateKeyPair } from 'jose'
import { afterAll, beforeAll } from 'vitest'
import crmConnector from './index.ts'
import { seedSynthetic } from './testing/emulator/seed.ts'
import { type SalesforceEmulator, startSalesforceEmulator } from './testing/emulator/server.ts'

// The jobs run against a Salesforce emulator; env and secrets are filled in before the hub starts.
const env: Record<string, string> = {}
let privateKey = ''
let org: SalesforceEmulator | undefined

beforeAll(async () => {
  const keys = await generateKeyPair('RS256', { extractable: true })
  privateKey = await exportPKCS8(keys.privateKey)
  org = await startSalesforceEmulator({
    app: {
      clientId: 'conformance',
      clientSecret: 's',
      publicJwk: await exportJWK(keys.publicKey),
      username: 'u@x.test',
    },
  })
  seedSynthetic(org.store, { prefix: 'CNF', accounts: 20, calls: 200 })
  Object.assign(env, {
    HUB_CRM_LOGIN_URL: org.url,
    HUB_CRM_CLIENT_ID: 'conformance',
    HUB_CRM_USERNAME: 'u@x.test',
    HUB_CRM_POLL_MS: '20',
  })
})
afterAll(async () => org?.close())

testConnector({
  connector: () => crmConnector,
  env,
  secrets: (home) => ({
    acme: { private_key: privateKey, sync_target_url: `sqlite:${join(home, 'tenants', 'acme.sqlite')}` },
  }),
})
