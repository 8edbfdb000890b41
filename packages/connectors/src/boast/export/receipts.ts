import { type ConnectorState, sha256Hex } from '@nl2q/core'

/**
 * What the connector remembers of one (export, asOf): `staged` when the data file's part was
 * complete and about to be renamed (a crash after that leaves a final file the next run adopts
 * instead of writing a second one), `data` once it was renamed, `delivered` once the manifest is.
 */
export interface DeliveryReceipt {
  status: 'staged' | 'data' | 'delivered'
  runId: string
  destination: string
  file: string
  bytes: number
  sha256: string
  rowCount: number
  columns: { name: string; type: string }[]
  planHash: string
  question: string | null
  gzip: boolean
  delimiter: string
  at: string
}

/** A destination URL in one spelling: no password, the scheme's default port, no trailing slash. */
export function destinationId(url: string): string {
  let u: URL
  try {
    u = new URL(url)
  } catch {
    return url
  }
  const port = u.port || (u.protocol === 'sftp:' ? '22' : '')
  const user = decodeURIComponent(u.username)
  const path = decodeURIComponent(u.pathname).replace(/\/+$/, '')
  return `${u.protocol}//${user ? `${user}@` : ''}${u.hostname}${port ? `:${port}` : ''}${path}`
}

/**
 * One receipt per (export, asOf, destination): the same export sent to a second destination is a
 * delivery of its own there, and is still skipped where it was delivered already.
 */
export const receiptKey = (exportId: string, asOf: string, destination: string) =>
  `${exportId}@${asOf}@${sha256Hex(destinationId(destination)).slice(0, 16)}`

export function receipts(state: ConnectorState) {
  return state.table<DeliveryReceipt>('receipts')
}
