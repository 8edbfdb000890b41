import type { Scalar } from '@nl2q/core'
import type { EntityProperty } from './entity-sets.ts'

/** One page of an entity set, ready to serialise. */
export interface Page {
  /** The properties served, in output order. */
  properties: EntityProperty[]
  /**
   * Source rows, not copied: the value of `properties[i]` in a row is `row[columns[i]]`. Only the
   * first `length` rows are served (a probe row that tells whether more follow may come after).
   */
  rows: readonly (readonly unknown[])[]
  columns: readonly number[]
  /**
   * The rows came as JSON text (the hub's JSON rows): `rows[r][0]` is row r's object exactly as
   * this feed writes it; `columns` is not used then.
   */
  json?: boolean
  length: number
  /** Set when more rows follow: the skiptoken of the next page. */
  nextToken: string | null
  /** `$top` still to serve after this page (null when no $top was given). */
  remainingTop: number | null
  /** `@odata.count` when `$count=true`. */
  count: number | null
}

export interface PageLimits {
  pageSize: number
}

/** How many rows to read for a page and whether a probe row tells if more follow. */
export function pageWindow(pageSize: number, top: number | null): { take: number; probe: boolean } {
  if (top !== null && top <= pageSize) return { take: top, probe: false }
  return { take: pageSize, probe: true }
}

export type { Scalar }
