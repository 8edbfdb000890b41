// @nl2q/connectors/crm: Veeva CRM on Salesforce — data sync (jsforce) and the sidebar widget.
import { defineConnector } from '@nl2q/core'
import { registerCrmCommands } from './commands.ts'
import { CrmConfigSchema } from './config.ts'
import { crmJobs } from './jobs.ts'
import { widgetRoutes } from './widget/routes.ts'

export const crmConnector = defineConnector({
  name: 'crm',
  config: CrmConfigSchema,
  routes(app, ctx) {
    widgetRoutes(app, ctx)
  },
  commands: registerCrmCommands,
  jobs: crmJobs,
})

export default crmConnector
