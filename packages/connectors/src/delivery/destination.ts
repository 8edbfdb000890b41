import type { Readable } from 'node:stream'
import { HubError } from '@nl2q/core'

/** One file to deliver: its final name, its bytes as a stream, and what to do if it already exists. */
export interface DeliveryFile {
  /** A plain file name (no `/`, no `..`); the destination's directory is the URL's path. */
  name: string
  body: Readable
  /** `fail` for data files (never overwrite a delivered file), `replace` for manifests. */
  conflict: 'fail' | 'replace'
}

export interface DeliveredFile {
  /** The final name, relative to the destination. */
  name: string
  bytes: number
  /** SHA-256 hex of the bytes delivered. */
  sha256: string
}

export interface PutOptions {
  signal?: AbortSignal
  /**
   * Called once the whole body sits in the temporary (`.part`) file and its size was verified,
   * before the rename that publishes it: the export records a "staged" receipt here, so a crash
   * between the rename and the final receipt is recognised on the next run instead of producing a
   * second file. A throw aborts the put (the part is removed, nothing is published).
   */
  beforeCommit?(staged: DeliveredFile): Promise<void>
}

/**
 * A destination directory. `put` is atomic: a reader of the destination sees either no file or the
 * whole file under its final name, never a partial one. Each `put` writes its temporary file from
 * the start (never appends to an earlier attempt's part).
 *
 * Errors are `HubError`s: `SERVICE_UNAVAILABLE` / `TIMEOUT` for transient failures (disconnect,
 * timeout: the caller may retry with a fresh body on a fresh `Delivery`), `CONFLICT` when the final
 * name exists and `conflict` is `fail`, `FORBIDDEN` / `CONFIG_INVALID` for what a retry cannot fix
 * (refused host key, bad credentials, bad URL).
 */
export interface Delivery {
  /** The destination URL without credentials. */
  readonly url: string
  put(file: DeliveryFile, options?: PutOptions): Promise<DeliveredFile>
  exists(name: string): Promise<boolean>
  close(): Promise<void>
}

/** Opens a destination from its URL; `secrets`/`config` come from the connector's tenant scope. */
export type DeliveryFactory = (
  url: URL,
  scope: { secrets: { get(name: string): Promise<string | undefined> }; config: Record<string, unknown> },
) => Promise<Delivery>

const factories = new Map<string, DeliveryFactory>()

/** Register the implementation of a URL scheme (`sftp:`, `m365:`, `file:`). */
export function registerDelivery(scheme: string, factory: DeliveryFactory): void {
  factories.set(scheme.endsWith(':') ? scheme : `${scheme}:`, factory)
}

export async function openDelivery(url: string, scope: Parameters<DeliveryFactory>[1]): Promise<Delivery> {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new HubError('VALIDATION_FAILED', `not a destination URL: ${url}`)
  }
  const factory = factories.get(parsed.protocol)
  if (!factory) {
    const known = [...factories.keys()].join(', ') || 'none'
    throw new HubError('VALIDATION_FAILED', `no delivery for '${parsed.protocol}' (known: ${known})`)
  }
  return factory(parsed, scope)
}

/** A delivered file name must be a plain name: no directory part, no traversal, no control bytes. */
export function assertPlainName(name: string): void {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control bytes are what we refuse
  if (!name || name === '.' || name === '..' || /[/\\\u0000-\u001f]/.test(name) || name.length > 255)
    throw new HubError('VALIDATION_FAILED', `not a plain file name: ${JSON.stringify(name)}`)
}
