import { z } from 'zod'
import { widgetConfigShape } from './widget/config.ts'

/** The crm connector's config section: env `HUB_CRM_<KEY>`, per tenant `hub connector config crm`. */
export const CrmConfigSchema = z.object({ ...widgetConfigShape })
export type CrmConfig = z.output<typeof CrmConfigSchema>
