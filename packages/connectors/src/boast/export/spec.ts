import { QueryPlanSchema } from '@nl2q/core'
import { z } from 'zod'

const DATE = /^\d{4}-\d{2}-\d{2}$/

/** The input of the `boast:export` job (and of `hub boast export`): what, where, as of when. */
export const ExportInputSchema = z
  .object({
    /** The export's id (file-name safe); defaults from the saved question or a hash of the question. */
    export: z
      .string()
      .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'lower-case letters, digits, _ and -')
      .optional(),
    /** A saved question (by name) of the Power BI connector's store. */
    saved: z.string().min(1).max(128).optional(),
    question: z.string().trim().min(1).max(2000).optional(),
    plan: QueryPlanSchema.optional(),
    /** Destination URL; default the connector's export_to. */
    to: z.string().min(1).max(2000).optional(),
    asOf: z
      .string()
      .regex(DATE, 'YYYY-MM-DD')
      .refine((d) => !Number.isNaN(Date.parse(`${d}T00:00:00Z`)), 'a real date')
      .optional(),
    gzip: z.boolean().optional(),
    delimiter: z
      .string()
      .refine((d) => d.length === 1 && !/["\r\n]/.test(d), 'one character, not a quote or line break')
      .optional(),
    /** Deliver again even though a receipt says this export and asOf were delivered. */
    force: z.boolean().default(false),
  })
  .strict()
  .refine((i) => [i.saved, i.question, i.plan].filter((x) => x !== undefined).length === 1, {
    message: 'give exactly one of saved, question or plan',
  })
export type ExportInput = z.output<typeof ExportInputSchema>
