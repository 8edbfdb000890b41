import { readFileSync } from 'node:fs'
import { z } from 'zod'

const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
  version: string
}
export const HUB_VERSION: string = pkg.version

/** `<name>.manifest.json`, written beside the data file after it is in place. */
export const ExportManifestSchema = z.object({
  manifestVersion: z.literal(1),
  exportId: z.string(),
  runId: z.string(),
  tenant: z.string(),
  question: z.string().nullable(),
  planHash: z.string(),
  asOf: z.string(),
  file: z.string(),
  format: z.object({
    type: z.literal('csv'),
    delimiter: z.string(),
    gzip: z.boolean(),
    encoding: z.literal('utf-8'),
  }),
  columns: z.array(z.object({ name: z.string(), type: z.string() })),
  rowCount: z.number().int().nonnegative(),
  bytes: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  createdAt: z.string(),
  hubVersion: z.string(),
})
export type ExportManifest = z.infer<typeof ExportManifestSchema>

export const manifestName = (file: string) => `${file}.manifest.json`
