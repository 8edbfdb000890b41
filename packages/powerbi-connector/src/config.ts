import { HubError } from '@nl2q/core'
import { z } from 'zod'

/** The connector's own settings (environment), validated like the hub's. */
export const PowerBiEnvSchema = z.object({
  /**
   * Server-driven page size of the OData feed (rows per response); clamped below HUB_MAX_ROWS, so the
   * default serves HUB_MAX_ROWS - 1 (9999) rows a page: per-page costs (request, plan, transaction,
   * audit) are then paid half as often as at 5000, for ~0.28 → ~0.39 of `mysql --batch` on a full read.
   */
  HUB_ODATA_PAGE_SIZE: z.coerce.number().int().min(1).max(1_000_000).default(10_000),
})

export interface PowerBiSettings {
  pageSize: number
}

export function loadPowerBiSettings(env: NodeJS.ProcessEnv = process.env): PowerBiSettings {
  const parsed = PowerBiEnvSchema.safeParse(env)
  if (!parsed.success)
    throw new HubError(
      'CONFIG_INVALID',
      `Invalid configuration — ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    )
  return { pageSize: parsed.data.HUB_ODATA_PAGE_SIZE }
}
