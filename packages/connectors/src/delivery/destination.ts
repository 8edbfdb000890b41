import type { Readable } from 'node:stream'
import { HubError } from '@nl2q/core'

/** One file to deliver: its final name, its bytes as a stream, and what to do if it already exists. */
export interface DeliveryFile {
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

/**
 * A destination directory. `put` is atomic: a reader of the destination sees either no file or the
 * whole file under its final name, never a partial one.
 */
export interface Delivery {
  readonly url: string
  put(file: DeliveryFile, options?: { signal?: AbortSignal }): Promise<DeliveredFile>
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
