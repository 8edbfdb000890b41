import { z } from 'zod'
import { SftpSettingsSchema } from '../delivery/index.ts'
import { M365DeliverySettings } from '../m365/delivery-scheme.ts'

const flag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes')

/** `HUB_BOAST_*` overlaid with the tenant's `hub connector config boast …` settings. */
export const BoastConfigSchema = SftpSettingsSchema.extend({
  /** For `m365://` destinations: the Entra app (`directory`, `client_id`, …; secret `client_secret`). */
  ...M365DeliverySettings.partial().shape,
  /** Default destination of exports (`sftp://user@host:port/dir`, `file:///dir`). */
  export_to: z.string().optional(),
  /** The partner's inbox the poll job reads (`sftp://user@host:port/inbox`). */
  inbox_url: z.string().optional(),
  csv_delimiter: z
    .string()
    .refine((d) => d.length === 1 && !/["\r\n]/.test(d), 'one character, not a quote or line break')
    .default(','),
  gzip: flag.default(true),
  /** zlib level of the gzip'd files: 6 (gzip's own default) for the smallest; 1 is ~30 % larger and takes a third of the CPU. */
  gzip_level: z.coerce.number().int().min(1).max(9).default(6),
  /** Rows per batch of the streamed read: memory holds a few batches, whatever the export size. */
  page_rows: z.coerce.number().int().min(100).max(100_000).default(500),
  /** Attempts after the first on a disconnect or timeout; each restarts the file. */
  retries: z.coerce.number().int().min(0).max(10).default(4),
  retry_base_ms: z.coerce.number().int().min(10).max(60_000).default(1000),
  /** Largest inbound data file the poller takes (bytes). */
  inbound_max_bytes: z.coerce
    .number()
    .int()
    .positive()
    .default(2 * 1024 ** 3),
  /** Inbound files may only load tables whose name starts with this (never the tenant's own). */
  inbound_table_prefix: z
    .string()
    .regex(/^[a-z][a-z0-9_]{0,30}$/)
    .default('boast_'),
  /** A data file with no manifest this long after it arrived is quarantined (0 = at once). */
  inbound_manifest_grace_s: z.coerce.number().int().min(0).default(3600),
})
export type BoastConfig = z.output<typeof BoastConfigSchema>
