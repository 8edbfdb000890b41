// @nl2q/connectors/crm: Veeva CRM on Salesforce — data sync (jsforce) and the sidebar widget.
import { defineConnector } from '@nl2q/core'

export const crmConnector = defineConnector({ name: 'crm' })

export default crmConnector
