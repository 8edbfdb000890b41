import { createHash } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { mkdtemp, open, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import {
  type Client,
  type FileObject,
  LargeFileUploadTask,
  type Range,
  type UploadResult,
} from '@microsoft/microsoft-graph-client'
import { HubError } from '@nl2q/core'
import type { DeliveredFile, Delivery, DeliveryFile, PutOptions } from '../delivery/index.ts'
import { type DriveFolder, itemPath, parseDriveUrl } from './drive-path.ts'
import { graphCause } from './groups.ts'

/** How often one upload resumes after a dropped or failed chunk before giving up. */
const MAX_RESUMES = 8

/** A spooled file read back slice by slice: any range can be sent again when a session resumes. */
class SpooledFile implements FileObject<string> {
  constructor(
    readonly content: string,
    readonly name: string,
    readonly size: number,
    private readonly signal: AbortSignal | undefined,
  ) {}

  async sliceFile(range: Range): Promise<Buffer> {
    this.signal?.throwIfAborted()
    const length = range.maxValue - range.minValue + 1
    const buf = Buffer.alloc(length)
    const fh = await open(this.content, 'r')
    try {
      const { bytesRead } = await fh.read(buf, 0, length, range.minValue)
      if (bytesRead !== length) throw new Error('the spooled file is shorter than its size')
    } finally {
      await fh.close()
    }
    return buf
  }
}

/** A chunk PUT that Graph refused: its status and headers (Retry-After), which the task itself drops. */
class ChunkRefused extends Error {
  constructor(
    readonly statusCode: number,
    readonly headers: Headers,
    readonly code: string | undefined,
  ) {
    super(`chunk refused with ${statusCode}${code ? ` ${code}` : ''}`)
  }
}

/**
 * LargeFileUploadTask reads a refused chunk's body and throws it without status or headers; this
 * task throws them, so a conflict at commit is told from a throttled or failed chunk.
 */
class CheckedUploadTask<T> extends LargeFileUploadTask<T> {
  override async uploadSliceGetRawResponse(slice: unknown, range: Range, total: number): Promise<Response> {
    const raw = await super.uploadSliceGetRawResponse(slice, range, total)
    if (raw.ok) return raw
    const body = (await raw.json().catch(() => ({}))) as { error?: { code?: unknown } }
    const code = typeof body.error?.code === 'string' ? body.error.code : undefined
    throw new ChunkRefused(raw.status, raw.headers, code)
  }
}

/** Write the stream to a private temp file, hashing it on the way: the upload needs the size first. */
async function spool(file: DeliveryFile, dir: string, signal?: AbortSignal) {
  const path = join(dir, 'body')
  const hash = createHash('sha256')
  let bytes = 0
  const tap = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk)
      bytes += chunk.length
      done(null, chunk)
    },
  })
  await pipeline(file.body, tap, createWriteStream(path, { mode: 0o600 }), ...(signal ? [{ signal }] : []))
  return { path, bytes, sha256: hash.digest('hex') }
}

const statusOf = (err: unknown) => graphCause(err).status

/**
 * The client's RetryHandler does not retry octet-stream PUTs (the chunks), so a throttled chunk
 * waits here: the server's Retry-After (at most a minute), else a short exponential backoff.
 */
function resumeDelayMs(err: unknown, attempt: number): number {
  const headers = (err as { headers?: { get?(name: string): string | null } }).headers
  const retryAfter = Number(headers?.get?.('Retry-After') ?? Number.NaN)
  if (Number.isFinite(retryAfter) && retryAfter >= 0) return Math.min(retryAfter, 60) * 1000
  return Math.min(250 * 2 ** attempt, 4_000)
}

/** Graph's answer to a failed delivery, as a HubError that names the file but no URL or token. */
function deliveryError(err: unknown, name: string): HubError {
  if (err instanceof HubError) return err
  const { status, text } = graphCause(err)
  if (status === 409)
    return new HubError('CONFLICT', `'${name}' already exists at the destination and was not replaced`, {
      cause: err,
    })
  return new HubError('SERVICE_UNAVAILABLE', `Delivery of '${name}' to Microsoft 365 failed: ${text}`, {
    cause: err,
  })
}

export interface M365DeliveryOptions {
  /** Bytes per chunk: a multiple of 320 KiB. */
  chunkBytes: number
}

/**
 * `m365://…/root:/folder/`: each file goes up through an upload session (LargeFileUploadTask),
 * so it appears under its name only when its last byte is committed. Data files use conflict
 * `fail`, manifests `replace`. A dropped or failed chunk resumes from `nextExpectedRanges`.
 */
export class M365Delivery implements Delivery {
  private readonly where: DriveFolder

  constructor(
    readonly url: string,
    private readonly client: Client,
    private readonly options: M365DeliveryOptions,
  ) {
    if (options.chunkBytes <= 0 || options.chunkBytes % (320 * 1024) !== 0)
      throw new HubError('CONFIG_INVALID', 'm365 upload chunks must be a multiple of 320 KiB')
    this.where = parseDriveUrl(url)
  }

  async exists(name: string): Promise<boolean> {
    try {
      await this.client.api(itemPath(this.where, name)).select('id').get()
      return true
    } catch (err) {
      if (statusOf(err) === 404) return false
      throw deliveryError(err, name)
    }
  }

  async put(file: DeliveryFile, options: PutOptions = {}): Promise<DeliveredFile> {
    const path = itemPath(this.where, file.name)
    const dir = await mkdtemp(join(tmpdir(), 'nl2q-m365-'))
    try {
      const spooled = await spool(file, dir, options.signal)
      // the whole body is staged (spooled, sized, hashed); the name appears on Graph only when the
      // upload's last byte is committed, so this is the point before publishing
      await options.beforeCommit?.({ name: file.name, bytes: spooled.bytes, sha256: spooled.sha256 })
      if (spooled.bytes === 0) {
        await this.client
          .api(`${path}/content`)
          .query({ '@microsoft.graph.conflictBehavior': file.conflict })
          .header('Content-Type', 'application/octet-stream')
          .put(Buffer.alloc(0))
          .catch((err: unknown) => {
            throw deliveryError(err, file.name)
          })
        return { name: file.name, bytes: 0, sha256: spooled.sha256 }
      }
      const session = await LargeFileUploadTask.createUploadSession(
        this.client,
        `${path}/createUploadSession`,
        {
          item: { '@microsoft.graph.conflictBehavior': file.conflict },
        },
      ).catch((err: unknown) => {
        throw deliveryError(err, file.name)
      })
      const task = new CheckedUploadTask(
        this.client,
        new SpooledFile(spooled.path, file.name, spooled.bytes, options.signal),
        session,
        { rangeSize: this.options.chunkBytes },
      )
      const item = await this.upload(task, file.name, options.signal)
      if (typeof item.size === 'number' && item.size !== spooled.bytes)
        throw new HubError('SERVICE_UNAVAILABLE', `Microsoft 365 stored '${file.name}' with the wrong size`)
      return { name: file.name, bytes: spooled.bytes, sha256: spooled.sha256 }
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  }

  /** Upload every range; after a failure ask the session where it stands and go on from there. */
  private async upload(
    task: LargeFileUploadTask<string>,
    name: string,
    signal: AbortSignal | undefined,
  ): Promise<{ size?: unknown }> {
    let lastError: unknown
    for (let attempt = 0; attempt <= MAX_RESUMES; attempt++) {
      signal?.throwIfAborted()
      try {
        const result = (attempt === 0 ? await task.upload() : await task.resume()) as UploadResult
        return (result.responseBody ?? {}) as { size?: unknown }
      } catch (err) {
        lastError = err
        const status = statusOf(err)
        // A conflict at commit, a gone session or a refusal will not heal by resuming.
        if (signal?.aborted || (status !== undefined && status < 500 && status !== 429 && status !== 416))
          break
        await new Promise((r) => setTimeout(r, resumeDelayMs(err, attempt)))
      }
    }
    await task.cancel().catch(() => undefined)
    throw deliveryError(lastError, name)
  }

  async close(): Promise<void> {}
}

/** Open an `m365://` destination on a Graph client acting as the tenant's app. */
export function openM365Delivery(url: string, client: Client, options: M365DeliveryOptions): M365Delivery {
  return new M365Delivery(url, client, options)
}
