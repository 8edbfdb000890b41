import { z } from 'zod'
import { widgetConfigShape } from './widget/config.ts'

/**
 * The crm connector's config section: `HUB_CRM_<KEY>`, overlaid per tenant by
 * `hub connector config crm --tenant t key=value`. Credentials are secrets, not config:
 * `private_key` (JWT bearer), `client_secret` (client credentials) and `sync_target_url`.
 */
export const CrmConfigSchema = z.object({
  ...widgetConfigShape,
  /** Where the OAuth token endpoint lives (`https://login.salesforce.com`, `https://test.salesforce.com`). */
  login_url: z.url().default('https://login.salesforce.com'),
  /** OAuth flow: `private_key` (JWT bearer signed with the app's key) or `client_credentials`. */
  auth: z.enum(['private_key', 'client_credentials']).default('private_key'),
  /** The connected app's consumer key. */
  client_id: z.string().min(1).optional(),
  /** The integration user a JWT bearer assertion names (`sub`). */
  username: z.string().min(1).optional(),
  api_version: z
    .string()
    .regex(/^\d{2}\.0$/)
    .default('59.0'),
  /** A YAML file overriding the default Veeva mapping (validated; unknown fields are named). */
  mapping_file: z.string().min(1).optional(),
  /** Rows per upsert transaction into the write target. */
  batch_size: z.coerce.number().int().min(1).max(5000).default(1000),
  /** Rows per Bulk 2.0 results page (`maxRecords`). */
  bulk_page_size: z.coerce.number().int().min(100).max(100_000).default(10_000),
  /** Incremental re-reads this far behind the last watermark (late commits are not missed). */
  overlap_seconds: z.coerce.number().int().min(0).max(86_400).default(300),
  /** Share of the daily API allowance above which calls are spaced by slow_delay_ms. */
  slow_above: z.coerce.number().min(0).max(1).default(0.8),
  /** Share above which a run stops (resumable) instead of spending the rest of the allowance. */
  stop_above: z.coerce.number().min(0).max(1).default(0.95),
  slow_delay_ms: z.coerce.number().int().min(0).max(60_000).default(1000),
  /** Retries of 5xx, REQUEST_LIMIT_EXCEEDED and connection resets, with exponential backoff. */
  max_retries: z.coerce.number().int().min(0).max(10).default(5),
  retry_base_ms: z.coerce.number().int().min(1).max(60_000).default(500),
  /** A call whose response has not fully arrived by then is abandoned and retried (a stalled or reset body). */
  request_timeout_ms: z.coerce.number().int().min(100).max(3_600_000).default(120_000),
  /** Bulk 2.0 polling interval for query and ingest jobs. */
  poll_ms: z.coerce.number().int().min(10).max(60_000).default(1000),
  /** Push through Bulk 2.0 ingest when more records changed than this; sObject Collections below. */
  push_bulk_threshold: z.coerce.number().int().min(1).default(2000),
})

export type CrmConfig = z.output<typeof CrmConfigSchema>
