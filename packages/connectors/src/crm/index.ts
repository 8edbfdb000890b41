// @nl2q/connectors/crm: Veeva CRM on Salesforce — data sync (jsforce) and the sidebar widget.
import { defineConnector } from '@nl2q/core'
import { CrmConfigSchema, crmConfigEnv } from './config.ts'
import { widgetRoutes } from './widget/routes.ts'

export const crmConnector = defineConnector({
  name: 'crm',
  config: CrmConfigSchema,
  configEnv: crmConfigEnv,
  routes(app, ctx) {
    widgetRoutes(app, ctx)
  },
})

export default crmConnector
