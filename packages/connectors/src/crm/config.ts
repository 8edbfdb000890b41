import { z } from 'zod'
import { widgetConfigShape } from './widget/config.ts'

/** The crm connector's config section: env `HUB_CRM_<KEY>`, per tenant `hub connector config crm`. */
export const CrmConfigSchema = z.object({ ...widgetConfigShape })
export type CrmConfig = z.output<typeof CrmConfigSchema>

/** Keys are lower-case as operators type them (`frame_ancestors=…`); their variables are upper-case. */
export const crmConfigEnv = Object.fromEntries(
  Object.keys(CrmConfigSchema.shape).map((key) => [key, `HUB_CRM_${key.toUpperCase()}`]),
) as Record<keyof CrmConfig, string>
