import { HubError, isHubError, type JobContext, openDataSource } from '@nl2q/core'
import type SftpClient from 'ssh2-sftp-client'
import { z } from 'zod'
import { connectSftp, sftpTarget } from '../../delivery/index.ts'
import type { BoastConfig } from '../config.ts'
import { type LoadOutcome, type Problem, validateAndLoad } from './load.ts'
import { type InboundManifest, InboundManifestSchema } from './manifest.ts'

export const PollInputSchema = z
  .object({
    /** The inbox (`sftp://user@host:port/inbox`); default the inbox_url setting. */
    inbox: z.string().min(1).max(2000).optional(),
    /** Files taken per run at most. */
    limit: z.number().int().min(1).max(1000).default(50),
  })
  .strict()
export type PollInput = z.output<typeof PollInputSchema>

/** The write credential of the tenant's sync target (a data-source URL: `sqlite:/…`, `mysql://…`). */
export const SYNC_TARGET_SECRET = 'sync_target_url'
const MANIFEST = '.manifest.json'
const MAX_MANIFEST_BYTES = 1024 * 1024

/** What the poller remembers of a loaded file (keyed by the data's SHA-256): duplicates are refused. */
interface InboundReceipt {
  file: string
  table: string
  rowCount: number
  runId: string
  at: string
}

interface Entry {
  name: string
  size: number
  modifyTime: number
}

async function readSmall(client: SftpClient, path: string, max: number): Promise<Buffer> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of client.createReadStream(path, {}) as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > max) throw new HubError('PAYLOAD_TOO_LARGE', `${path} is larger than ${max} bytes`)
    chunks.push(chunk)
  }
  return Buffer.concat(chunks)
}

/**
 * One pass over the inbox: each data file that has its manifest is checked and loaded in one
 * transaction, then moved with its manifest to `processed/`; a bad one goes to `quarantine/` with
 * `<name>.error.json`. A data file without a manifest waits (quarantined once older than
 * inbound_manifest_grace_s). A file whose bytes were loaded before is refused as a duplicate.
 */
export async function runPoll(input: PollInput, ctx: JobContext<BoastConfig>) {
  const cfg = ctx.config
  const inbox = input.inbox ?? cfg.inbox_url
  if (!inbox) throw new HubError('BAD_REQUEST', 'no inbox: pass --inbox or set the boast inbox_url setting')
  let url: URL
  try {
    url = new URL(inbox)
  } catch {
    throw new HubError('VALIDATION_FAILED', `not an inbox URL: ${inbox}`)
  }
  const target = await sftpTarget(url, {
    secrets: ctx.secrets,
    config: cfg as unknown as Record<string, unknown>,
  })
  const client = await connectSftp(target)
  const dir = target.dir
  const receipts = ctx.state.table<InboundReceipt>('inbound')
  const loaded: { file: string; table: string; rowCount: number }[] = []
  const quarantined: { file: string; reason: string }[] = []
  try {
    for (const sub of ['processed', 'quarantine'])
      if (!(await client.exists(`${dir}/${sub}`))) await client.mkdir(`${dir}/${sub}`, true)
    const entries = ((await client.list(dir)) as (Entry & { type: string })[]).filter((e) => e.type === '-')
    const names = new Set(entries.map((e) => e.name))
    const data = entries
      .filter((e) => !e.name.endsWith(MANIFEST) && !e.name.endsWith('.part') && !e.name.startsWith('.'))
      .sort((a, b) => a.name.localeCompare(b.name))
    const graceMs = cfg.inbound_manifest_grace_s * 1000
    const old = (e: Entry) => Date.now() - e.modifyTime >= graceMs

    const move = async (name: string, to: 'processed' | 'quarantine') => {
      if (names.has(name)) await client.posixRename(`${dir}/${name}`, `${dir}/${to}/${name}`)
    }
    async function quarantine(
      file: string,
      reason: string,
      problems: Problem[],
      problemCount: number,
      extra = {},
    ) {
      const report = {
        file,
        reason,
        problemCount,
        problems: problems.slice(0, 100),
        runId: ctx.runId,
        at: new Date().toISOString(),
        ...extra,
      }
      const path = `${dir}/quarantine/${file}.error.json`
      await client.put(Buffer.from(`${JSON.stringify(report, null, 2)}\n`), `${path}.part`)
      await client.posixRename(`${path}.part`, path)
      await move(file, 'quarantine')
      await move(`${file}${MANIFEST}`, 'quarantine')
      quarantined.push({ file, reason })
      ctx.metrics
        .counter('inbound_files_total', 'BOAST inbound files', ['outcome'])
        .inc({ outcome: 'quarantined' })
      await ctx.audit.append({
        action: 'boast.inbound',
        resource: file,
        outcome: 'failure',
        detail: { runId: ctx.runId, reason, problemCount },
      })
    }

    // Manifests whose data file never came, once they are old.
    for (const e of entries)
      if (e.name.endsWith(MANIFEST) && !names.has(e.name.slice(0, -MANIFEST.length)) && old(e))
        await quarantine(
          e.name.slice(0, -MANIFEST.length),
          'missing data file',
          [{ row: 0, column: null, reason: 'a manifest arrived without its data file' }],
          1,
        )

    let taken = 0
    for (const file of data) {
      if (taken >= input.limit) break
      ctx.signal.throwIfAborted()
      if (!names.has(`${file.name}${MANIFEST}`)) {
        if (old(file))
          await quarantine(
            file.name,
            'missing manifest',
            [{ row: 0, column: null, reason: `no ${file.name}${MANIFEST} beside the file` }],
            1,
          )
        continue
      }
      taken++
      const one = await takeFile(file)
      if (one.ok) loaded.push(one.loaded)
    }

    async function takeFile(
      file: Entry,
    ): Promise<{ ok: true; loaded: { file: string; table: string; rowCount: number } } | { ok: false }> {
      let manifest: InboundManifest
      try {
        const raw = await readSmall(client, `${dir}/${file.name}${MANIFEST}`, MAX_MANIFEST_BYTES)
        const parsed = InboundManifestSchema.safeParse(JSON.parse(raw.toString('utf8')))
        if (!parsed.success) {
          const problems = parsed.error.issues.map((i) => ({
            row: 0,
            column: i.path.join('.') || null,
            reason: i.message,
          }))
          await quarantine(file.name, 'invalid manifest', problems, problems.length)
          return { ok: false }
        }
        manifest = parsed.data
      } catch (err) {
        if (err instanceof SyntaxError || (isHubError(err) && err.code === 'PAYLOAD_TOO_LARGE')) {
          await quarantine(file.name, 'invalid manifest', [{ row: 0, column: null, reason: err.message }], 1)
          return { ok: false }
        }
        throw err
      }
      const refuse = (reason: string, text: string) =>
        quarantine(file.name, reason, [{ row: 0, column: null, reason: text }], 1).then(() => ({
          ok: false as const,
        }))
      if (manifest.file !== file.name)
        return refuse('invalid manifest', `the manifest names ${manifest.file}, not ${file.name}`)
      if (!manifest.table.startsWith(cfg.inbound_table_prefix))
        return refuse(
          'table not allowed',
          `inbound tables start with '${cfg.inbound_table_prefix}', not ${manifest.table}`,
        )
      if (file.size > cfg.inbound_max_bytes)
        return refuse('too large', `${file.size} bytes, more than inbound_max_bytes ${cfg.inbound_max_bytes}`)
      const earlier = await receipts.get(manifest.sha256)
      if (earlier)
        return refuse(
          'duplicate',
          `the same bytes (SHA-256 ${manifest.sha256}) were loaded as ${earlier.file} into ${earlier.table} at ${earlier.at} (run ${earlier.runId})`,
        )

      const ds = openDataSource(await ctx.secrets.require(SYNC_TARGET_SECRET))
      let outcome: LoadOutcome
      try {
        outcome = await validateAndLoad(
          ds,
          manifest,
          client.createReadStream(`${dir}/${file.name}`, {}),
          ctx.signal,
        )
      } catch (cause) {
        throw isHubError(cause)
          ? cause
          : new HubError('SERVICE_UNAVAILABLE', `loading ${file.name} failed`, { cause })
      } finally {
        await ds.knex.destroy()
      }
      if (!outcome.ok) {
        await quarantine(file.name, outcome.reason, outcome.problems, outcome.problemCount, {
          table: manifest.table,
          rowsRead: outcome.rowsRead,
        })
        return { ok: false }
      }
      await receipts.put(manifest.sha256, {
        file: file.name,
        table: manifest.table,
        rowCount: outcome.rowCount,
        runId: ctx.runId,
        at: new Date().toISOString(),
      })
      await move(file.name, 'processed')
      await move(`${file.name}${MANIFEST}`, 'processed')
      ctx.metrics
        .counter('inbound_files_total', 'BOAST inbound files', ['outcome'])
        .inc({ outcome: 'loaded' })
      await ctx.audit.append({
        action: 'boast.inbound',
        resource: file.name,
        outcome: 'success',
        rowCount: outcome.rowCount,
        detail: {
          runId: ctx.runId,
          table: manifest.table,
          mode: manifest.mode,
          sha256: manifest.sha256,
          ...(outcome.loadedBefore
            ? {
                recovered: `loaded as ${outcome.loadedBefore.file} at ${outcome.loadedBefore.at}; not loaded again`,
              }
            : {}),
        },
      })
      return { ok: true, loaded: { file: file.name, table: manifest.table, rowCount: outcome.rowCount } }
    }
  } finally {
    await client.end().catch(() => undefined)
  }
  // The loaded tables become datasets: the tenant's model is re-read on the next question.
  if (loaded.length > 0) await ctx.hub.refresh({ signal: ctx.signal })
  return { loaded, quarantined }
}
