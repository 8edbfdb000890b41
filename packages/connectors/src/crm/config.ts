import { z } from 'zod'

/**
 * The crm connector's config section: `HUB_CRM_<KEY>`, overlaid per tenant by
 * `hub connector config crm --tenant t KEY=value`. Credentials are secrets, not config:
 * `private_key` (JWT bearer), `client_secret` (client credentials) and `sync_target_url`.
 */
export const CrmConfigSchema = z.object({
  /** Where the OAuth token endpoint lives (`https://login.salesforce.com`, `https://test.salesforce.com`). */
  LOGIN_URL: z.url().default('https://login.salesforce.com'),
  /** OAuth flow: `private_key` (JWT bearer signed with the app's key) or `client_credentials`. */
  AUTH: z.enum(['private_key', 'client_credentials']).default('private_key'),
  /** The connected app's consumer key. */
  CLIENT_ID: z.string().min(1).optional(),
  /** The integration user a JWT bearer assertion names (`sub`). */
  USERNAME: z.string().min(1).optional(),
  API_VERSION: z
    .string()
    .regex(/^\d{2}\.0$/)
    .default('59.0'),
  /** A YAML file overriding the default Veeva mapping (validated; unknown fields are named). */
  MAPPING_FILE: z.string().min(1).optional(),
  /** Rows per upsert transaction into the write target. */
  BATCH_SIZE: z.coerce.number().int().min(1).max(5000).default(1000),
  /** Rows per Bulk 2.0 results page (`maxRecords`). */
  BULK_PAGE_SIZE: z.coerce.number().int().min(100).max(100_000).default(10_000),
  /** Incremental re-reads this far behind the last watermark (late commits are not missed). */
  OVERLAP_SECONDS: z.coerce.number().int().min(0).max(86_400).default(300),
  /** Share of the daily API allowance above which calls are spaced by SLOW_DELAY_MS. */
  SLOW_ABOVE: z.coerce.number().min(0).max(1).default(0.8),
  /** Share above which a run stops (resumable) instead of spending the rest of the allowance. */
  STOP_ABOVE: z.coerce.number().min(0).max(1).default(0.95),
  SLOW_DELAY_MS: z.coerce.number().int().min(0).max(60_000).default(1000),
  /** Retries of 5xx, REQUEST_LIMIT_EXCEEDED and connection resets, with exponential backoff. */
  MAX_RETRIES: z.coerce.number().int().min(0).max(10).default(5),
  RETRY_BASE_MS: z.coerce.number().int().min(1).max(60_000).default(500),
  /** A call whose response has not fully arrived by then is abandoned and retried (a stalled or reset body). */
  REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).max(3_600_000).default(120_000),
  /** Bulk 2.0 polling interval for query and ingest jobs. */
  POLL_MS: z.coerce.number().int().min(10).max(60_000).default(1000),
  /** Push through Bulk 2.0 ingest when more records changed than this; sObject Collections below. */
  PUSH_BULK_THRESHOLD: z.coerce.number().int().min(1).default(2000),
})

export type CrmConfig = z.output<typeof CrmConfigSchema>
