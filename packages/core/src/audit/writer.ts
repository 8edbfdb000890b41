import type { PreparedEvent } from './record.ts'

export interface AppendResult {
  seq: number
  hash: string
}

/** Appends a batch of one tenant's events atomically under the tenant's chain lock. */
export type BatchWriter = (tenant: string, events: PreparedEvent[]) => Promise<AppendResult[]>
