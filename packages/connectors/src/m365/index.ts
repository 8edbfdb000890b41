// @nl2q/connectors/m365: Microsoft 365 through Microsoft Graph — Entra groups as roles, SharePoint delivery.
import { defineConnector } from '@nl2q/core'
import { createGroupsMapper } from './claims.ts'
import { M365Config } from './config.ts'
import './delivery-scheme.ts'

export const m365Connector = defineConnector({
  name: 'm365',
  config: M365Config,
  mapClaims: createGroupsMapper(),
})

export default m365Connector
export type { M365Settings } from './config.ts'
export { M365Delivery, openM365Delivery } from './delivery.ts'
