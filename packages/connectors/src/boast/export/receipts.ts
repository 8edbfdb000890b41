import type { ConnectorState } from '@nl2q/core'

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

export const receiptKey = (exportId: string, asOf: string) => `${exportId}@${asOf}`

export function receipts(state: ConnectorState) {
  return state.table<DeliveryReceipt>('receipts')
}
