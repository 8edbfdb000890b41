// @nl2q/connectors/m365: Microsoft 365 through Microsoft Graph — Entra groups as roles, SharePoint delivery.
import { defineConnector } from '@nl2q/core'

export const m365Connector = defineConnector({ name: 'm365' })

export default m365Connector
