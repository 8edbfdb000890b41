import { z } from 'zod'

export const INBOUND_TYPES = ['string', 'integer', 'decimal', 'boolean', 'date', 'datetime'] as const
const IDENT = /^[a-z][a-z0-9_]{0,62}$/

/** `<file>.manifest.json` a partner writes after its data file: what the file is and where it goes. */
export const InboundManifestSchema = z
  .object({
    file: z.string().min(1).max(255),
    /** The tenant table to load (must start with the inbound_table_prefix, `boast_`). */
    table: z.string().regex(IDENT, 'lower-case letters, digits and _'),
    /** `replace` the table's rows (default) or `append` to them. */
    mode: z.enum(['replace', 'append']).default('replace'),
    sha256: z
      .string()
      .regex(/^[0-9a-fA-F]{64}$/, '64 hex digits')
      .transform((s) => s.toLowerCase()),
    bytes: z.number().int().nonnegative().optional(),
    rowCount: z.number().int().nonnegative(),
    delimiter: z
      .string()
      .refine((d) => d.length === 1 && !/["\r\n]/.test(d), 'one character')
      .default(','),
    gzip: z.boolean().default(false),
    columns: z
      .array(
        z
          .object({
            name: z.string().regex(IDENT, 'lower-case letters, digits and _'),
            type: z.enum(INBOUND_TYPES),
            nullable: z.boolean().default(true),
          })
          .strict(),
      )
      .min(1)
      .max(200)
      .refine((cols) => new Set(cols.map((c) => c.name)).size === cols.length, 'column names repeat'),
  })
  .strict()
export type InboundManifest = z.output<typeof InboundManifestSchema>
export type InboundColumn = InboundManifest['columns'][number]
