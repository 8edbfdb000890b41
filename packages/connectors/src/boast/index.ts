// @nl2q/connectors/boast: file exchange with BOAST over SFTP — exports out, validated files in.
import { defineConnector, defineJob } from '@nl2q/core'
import { boastCommands } from './commands.ts'
import { type BoastConfig, BoastConfigSchema } from './config.ts'
import { runExport } from './export/run-export.ts'
import { ExportInputSchema } from './export/spec.ts'
import { PollInputSchema, runPoll } from './inbound/poll.ts'
import { SAVED_QUESTIONS, savedQuestionReader } from './saved.ts'

/** `boast:export` — a saved question, question or plan as CSV (gzip) plus manifest to a destination. */
export const exportJob = defineJob<typeof ExportInputSchema, BoastConfig>({
  description: 'Export the answer to a question as CSV (gzip) with a manifest to an SFTP directory',
  input: ExportInputSchema,
  run: (input, ctx) => runExport(input, ctx, savedQuestionReader(ctx.state)),
})

/** `boast:poll` — validate and load what waits in the partner's inbox. */
export const pollJob = defineJob<typeof PollInputSchema, BoastConfig>({
  description: 'Validate and load the files (with manifests) waiting in the BOAST inbox',
  input: PollInputSchema,
  run: (input, ctx) => runPoll(input, ctx),
})

export const boastConnector = defineConnector({
  name: 'boast',
  config: BoastConfigSchema,
  reads: [SAVED_QUESTIONS],
  commands: boastCommands,
  jobs: { export: exportJob, poll: pollJob },
})

export { type BoastConfig, BoastConfigSchema } from './config.ts'
export { type ExportManifest, ExportManifestSchema } from './export/manifest.ts'
export { type ExportInput, ExportInputSchema } from './export/spec.ts'
export { type InboundManifest, InboundManifestSchema } from './inbound/manifest.ts'
export default boastConnector
