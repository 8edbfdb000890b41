import { z } from 'zod'

/** The connector's config section: `HUB_ODATA_<KEY>`, validated by the hub at start-up. */
export const PowerBiConfigSchema = z.object({
  /**
   * Server-driven page size of the OData feed (rows per response); clamped below HUB_MAX_ROWS, so the
   * default serves HUB_MAX_ROWS - 1 (9999) rows a page: per-page costs (request, plan, transaction,
   * audit) are then paid half as often as at 5000, for ~0.28 → ~0.39 of `mysql --batch` on a full read.
   */
  PAGE_SIZE: z.coerce.number().int().min(1).max(1_000_000).default(10_000),
  /**
   * `1`: read dataset pages as JSON rows built by the database where it can (MySQL/MariaDB, columns
   * of exact types; see core's json-rows.ts), which the feed copies into the body as they are; `0`:
   * always render rows here. The bodies are the same byte for byte either way.
   */
  JSON_ROWS: z.enum(['0', '1']).default('1'),
})

export type PowerBiSettings = z.output<typeof PowerBiConfigSchema>
