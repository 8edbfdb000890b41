import { testConnector } from '@nl2q/core/testing'
import { buildWidget } from '../../../scripts/build-widget.mjs'
import { crmConnector } from '../index.ts'

await buildWidget()

testConnector({
  connector: () => crmConnector,
  env: { HUB_CRM_FRAME_ANCESTORS: 'https://*.lightning.force.com' },
  // The page and its assets hold no data; Canvas and the session exchange carry their own signed
  // credential in the body (refused 400/415 when it is missing, 401 when it is wrong). The data
  // routes (/crm/widget/hcp, /crm/widget/ask) and /v1/embed answer 401 without a credential.
  publicPaths: ['/crm/widget', '/crm/widget/assets/:file', '/crm/canvas', '/crm/widget/session'],
})
