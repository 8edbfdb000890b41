import { type BoundHub, HubError, type RouteContext, type TenantAudit } from '@nl2q/core'
import { type Context, Hono } from 'hono'
import type { PowerBiSettings } from '../config.ts'
import { type SavedQuestionStore, savedQuestionStore } from '../saved-questions/store.ts'
import { findEntitySet, loadCatalog } from './catalog.ts'
import type { EntitySet } from './entity-sets.ts'
import {
  JSON_MINIMAL,
  negotiateJson,
  odataEnvelope,
  odataErrorHandler,
  odataErrorResponse,
  preferredPageSize,
} from './http.ts'
import { metadataXml } from './metadata-xml.ts'
import type { Page } from './page.ts'
import { checkSystemOptions, parseQueryOptions, type QueryOptions } from './query-options.ts'
import { createReadAhead, nextPageOptions, type ReadAheadOptions, readAheadKey } from './read-ahead.ts'
import { countDataset, type DatasetReadInput, readDatasetPage } from './read-dataset.ts'
import { countSaved, readSavedPage } from './read-saved.ts'
import { collectionBytes, serviceDocument } from './serialize.ts'

export interface FeedOptions {
  ctx: RouteContext<PowerBiSettings>
  /** Server-driven page size (rows per response); clamped below the hub's row cap. */
  pageSize: number
  /** Path prefix of the feed (`/odata`); the returned app is mounted at the root. */
  prefix: string
  /** Read-ahead of the next page (`maxEntries: 0` turns it off). */
  readAhead?: ReadAheadOptions
  /** Ask the hub for JSON rows when the body is written without IEEE754Compatible (default true). */
  jsonRows?: boolean
}

/**
 * The OData v4 feed: service document, $metadata, entity sets with server-driven paging and
 * `/<Set>/$count`, behind the shared auth (Bearer, API key, or HTTP Basic with the key as the
 * password) and rate limit. Every error is OData error JSON.
 */
/**
 * Pages a reader reads ahead of its client: the next one, and once that is read the one after, so
 * that the database is never idle while the client receives and parses a page (keyset pages are
 * read one after the other: each starts after the last key of the one before).
 */
const READ_AHEAD_PAGES = 2

/** A page and its response body (rendered once, possibly ahead of the request). */
interface Rendered {
  page: Page
  body: Buffer<ArrayBuffer>
}

export function odataRoutes(options: FeedOptions): Hono {
  const { ctx, prefix } = options
  const maxRows = ctx.hub.info.limits.maxRows
  const pageCap = Math.max(1, Math.min(options.pageSize, maxRows - 1))
  const jsonRows = options.jsonRows ?? true
  // Per request: the hub bound to the caller, and the saved questions of the caller's tenant.
  const hubOf = (c: Context): BoundHub => ctx.hub.for(c)
  const storeOf = (c: Context): SavedQuestionStore => savedQuestionStore(ctx.state.for(c))
  const sourcesOf = (c: Context) => ({ hub: hubOf(c), store: storeOf(c) })
  const readAhead = createReadAhead<Rendered>(options.readAhead)
  const app = new Hono()
  app.onError(odataErrorHandler)
  // Full paths, so that both `/odata` and `/odata/` are the service root (clients use either);
  // `/odata/*` also matches `/odata` in Hono, so one registration guards every resource.
  app.use(`${prefix}/*`, odataEnvelope(), ctx.security.authenticate({ basic: true }), ctx.security.rateLimit)

  const base = (c: Context) =>
    `${(ctx.hub.info.publicUrl ?? new URL(c.req.url).origin).replace(/\/+$/, '')}${prefix}`

  async function findSet(c: Context, name: string): Promise<EntitySet> {
    if (/\(.*\)$/.test(name))
      throw new HubError(
        'NOT_IMPLEMENTED',
        'Addressing single entities by key is not supported; use $filter',
        {
          status: 501,
        },
      )
    const set = await findEntitySet(sourcesOf(c), name)
    if (!set) throw new HubError('NOT_FOUND', `No entity set '${name}'`)
    return set
  }

  const serviceDoc = async (c: Context) => {
    checkSystemOptions(new URL(c.req.url).searchParams)
    const neg = negotiateJson(c)
    const sets = await loadCatalog(sourcesOf(c))
    return c.body(serviceDocument(base(c), sets), 200, { 'content-type': neg.contentType })
  }
  app.get(prefix, serviceDoc)
  app.get(`${prefix}/`, serviceDoc)

  app.get(`${prefix}/$metadata`, async (c) => {
    const format = c.req.query('$format')
    if (format !== undefined && !['xml', 'application/xml'].includes(format.toLowerCase()))
      throw new HubError('NOT_ACCEPTABLE', '$metadata is available as application/xml only')
    const sets = await loadCatalog(sourcesOf(c))
    return c.body(metadataXml(sets), 200, { 'content-type': 'application/xml' })
  })

  app.get(`${prefix}/:set/$count`, async (c) => {
    const set = await findSet(c, c.req.param('set'))
    const params = new URL(c.req.url).searchParams
    const opts = parseQueryOptions(set, params)
    const n =
      set.kind === 'dataset'
        ? await countDataset(hubOf(c), set, opts.filter)
        : await countSaved({
            hub: hubOf(c),
            set,
            saved: await savedOf(c, set),
            options: opts,
            maxRows,
          })
    return c.body(String(n), 200, { 'content-type': 'text/plain;charset=utf-8' })
  })

  async function savedOf(c: Context, set: EntitySet) {
    const saved = await storeOf(c).get(set.saved as string)
    if (!saved) throw new HubError('NOT_FOUND', `No entity set '${set.name}'`)
    return saved
  }

  /**
   * A dataset page: the one read (and rendered) ahead for this very request if there is one —
   * audited as served here, before it is returned — else read now; then the next page is read ahead
   * (see read-ahead.ts).
   */
  async function datasetPage(
    args: DatasetReadInput,
    audit: TenantAudit,
    render: (page: Page, options: QueryOptions) => Buffer<ArrayBuffer>,
    variant: string,
  ): Promise<Rendered> {
    const { hub, set, options, pageSize } = args
    const who = hub.principal
    const started = performance.now()
    const ahead = await readAhead.take(readAheadKey(who, set, options, pageSize, variant))
    let served: Rendered
    if (ahead) {
      await audit.append({
        action: 'data.query',
        resource: set.dataset ?? null,
        outcome: 'success',
        rowCount: ahead.page.length,
        durationMs: Math.round(performance.now() - started),
        detail: { readAhead: true },
      })
      served = ahead
    } else {
      const page = await readDatasetPage(args)
      served = { page, body: render(page, options) }
    }
    const next = options.count ? null : nextPageOptions(options, served.page)
    if (next) prefetch(args, next, render, variant, READ_AHEAD_PAGES)
    return served
  }

  /**
   * Make sure the page of `options` is being read ahead and, once it is read, the `depth - 1` pages
   * after it, one after the other (each needs the last key of the one before). Called with the page
   * after the one just served, so a reader is never more than `depth` pages ahead of its client.
   */
  function prefetch(
    args: DatasetReadInput,
    options: QueryOptions,
    render: (page: Page, options: QueryOptions) => Buffer<ArrayBuffer>,
    variant: string,
    depth: number,
  ): void {
    const key = readAheadKey(args.hub.principal, args.set, options, args.pageSize, variant)
    const pending =
      readAhead.peek(key) ??
      readAhead.start(key, async () => {
        // The read outlives the request, so not its abort signal; the statement time limit holds.
        const page = await readDatasetPage({ ...args, signal: null, options })
        // Only the body and the paging state are kept, not the rows.
        return { page: { ...page, rows: [] }, body: render(page, options) }
      })
    if (depth <= 1) return
    void pending.then((read) => {
      const next = read && nextPageOptions(options, read.page)
      if (next) prefetch(args, next, render, variant, depth - 1)
    })
  }

  app.get(`${prefix}/:set`, async (c) => {
    const set = await findSet(c, c.req.param('set'))
    const neg = negotiateJson(c)
    const opts = parseQueryOptions(set, new URL(c.req.url).searchParams)
    const preferred = preferredPageSize(c)
    const pageSize = preferred ? Math.min(preferred, pageCap) : pageCap
    const args = { hub: hubOf(c), set, options: opts, pageSize, json: jsonRows && !neg.ieee754 }
    const url = base(c)
    // Encoded once: a string body would be scanned for its length, then encoded again on write.
    const render = (page: Page, options: QueryOptions) =>
      collectionBytes(url, set, options, page, { ieee754: neg.ieee754 })
    const body =
      set.kind === 'dataset'
        ? (await datasetPage(args, ctx.audit.for(c), render, `${url} ${neg.ieee754}`)).body
        : render(await readSavedPage({ ...args, saved: await savedOf(c, set), maxRows }), opts)
    const headers: Record<string, string> = { 'content-type': neg.contentType }
    if (preferred) headers['preference-applied'] = `odata.maxpagesize=${pageSize}`
    return c.body(body, 200, headers)
  })

  app.all(`${prefix}/*`, (c) => {
    const err =
      c.req.method === 'GET'
        ? new HubError('NOT_FOUND', `No OData resource at ${new URL(c.req.url).pathname}`)
        : new HubError('METHOD_NOT_ALLOWED', 'The feed is read-only: only GET is supported', {
            headers: { allow: 'GET' },
          })
    return odataErrorResponse(c, err)
  })
  return app
}

export { JSON_MINIMAL }
