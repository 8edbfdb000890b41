import { type Principal, policyKey } from '@nl2q/core'
import type { EntitySet } from './entity-sets.ts'
import type { Page } from './page.ts'
import type { QueryOptions } from './query-options.ts'

/**
 * Read-ahead of the next page of a dataset set. A paging client (OData.Feed, Excel) asks for the
 * nextLink only after it has received and parsed a page; until then the hub and the database sit
 * idle. When a page with a nextLink is served, the next page is read (and rendered) in the background
 * — through `hub.query`, so with the same plan, policy and audit as any read — and kept briefly under a key
 * made of the principal (tenant, subject, credential, roles, attributes), the set, every query option
 * of that nextLink and the page size. The request that follows takes it instead of reading again (it
 * still records its own audit event before serving). A read-ahead that fails or is not claimed is
 * dropped: the request reads as usual. Bounded in entries and time, so memory stays one or two pages
 * per reader.
 */
export interface ReadAhead<T> {
  /** What was read ahead for `key`, or null (none, expired, or its read failed). Removes the entry. */
  take(key: string): Promise<T | null> | null
  /** What is being (or was) read ahead for `key`, or null; the entry stays. */
  peek(key: string): Promise<T | null> | null
  /** Read ahead for `key` (replaces an older entry; the oldest goes when full). */
  start(key: string, read: () => Promise<T>): Promise<T | null>
  clear(): void
}

export interface ReadAheadOptions {
  maxEntries?: number
  ttlMs?: number
}

export function createReadAhead<T>(options: ReadAheadOptions = {}): ReadAhead<T> {
  const maxEntries = options.maxEntries ?? 8
  const ttlMs = options.ttlMs ?? 30_000
  const entries = new Map<string, { page: Promise<T | null>; timer: NodeJS.Timeout }>()

  const drop = (key: string) => {
    const e = entries.get(key)
    if (!e) return
    clearTimeout(e.timer)
    entries.delete(key)
  }

  return {
    take(key) {
      const e = entries.get(key)
      if (!e) return null
      drop(key)
      return e.page
    },
    peek(key) {
      return entries.get(key)?.page ?? null
    },
    start(key, read) {
      if (maxEntries <= 0) return Promise.resolve(null)
      drop(key)
      while (entries.size >= maxEntries) {
        const oldest = entries.keys().next().value as string
        drop(oldest)
      }
      const page = read().catch(() => null)
      const timer = setTimeout(() => drop(key), ttlMs)
      timer.unref()
      entries.set(key, { page, timer })
      return page
    },
    clear() {
      for (const key of [...entries.keys()]) drop(key)
    },
  }
}

/**
 * Everything a page depends on: who reads (every policy input), what, how much per page, and how it
 * is rendered (`variant`: base URL and number format).
 */
export function readAheadKey(
  principal: Principal,
  set: EntitySet,
  options: QueryOptions,
  pageSize: number,
  variant = '',
): string {
  return JSON.stringify([
    policyKey(principal),
    principal.subject,
    principal.credential.kind,
    principal.credential.issuer ?? null,
    principal.credential.id,
    set.name,
    options.filterText,
    options.selectText,
    options.orderbyText,
    options.top,
    options.skip,
    options.count,
    options.skiptoken,
    pageSize,
    variant,
  ])
}

/** The options of the page after `page`, as the request for its nextLink will parse them. */
export function nextPageOptions(options: QueryOptions, page: Page): QueryOptions | null {
  if (!page.nextToken) return null
  return { ...options, skip: 0, top: page.remainingTop, skiptoken: page.nextToken }
}
