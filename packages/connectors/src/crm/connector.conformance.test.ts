import { join } from 'node:path'
import { testConnector } from '@nl2q/core/testing'
import { exportJWK, exportPKCS8, generateKeyPair } from 'jose'
import { afterAll, beforeAll } from 'vitest'
import { buildWidget } from '../../scripts/build-widget.mjs'
import crmConnector from './index.ts'
import { seedSynthetic } from './testing/emulator/seed.ts'
import { type SalesforceEmulator, startSalesforceEmulator } from './testing/emulator/server.ts'

await buildWidget()

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
    HUB_CRM_FRAME_ANCESTORS: 'https://*.lightning.force.com',
  })
})
afterAll(async () => org?.close())

testConnector({
  connector: () => crmConnector,
  env,
  // The widget's page and assets hold no data; Canvas and the session exchange carry their own signed
  // credential in the body (refused 400/415 when it is missing, 401 when it is wrong). The data
  // routes (/crm/widget/hcp, /crm/widget/ask) and /v1/embed answer 401 without a credential.
  publicPaths: ['/crm/widget', '/crm/widget/assets/:file', '/crm/canvas', '/crm/widget/session'],
  secrets: (home) => ({
    acme: { private_key: privateKey, sync_target_url: `sqlite:${join(home, 'tenants', 'acme.sqlite')}` },
  }),
})
