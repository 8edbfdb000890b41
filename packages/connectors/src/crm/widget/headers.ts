import { randomBytes } from 'node:crypto'
import type { Context } from 'hono'

/** A fresh nonce per page: the one script the page loads carries it. */
export const newNonce = () => randomBytes(16).toString('base64')

/**
 * The framing policy of a widget page: only the tenant's allow-listed origins may frame it (none
 * without a list), only the nonce'd bundle runs, it talks only to the hub, and it keeps no cookies.
 */
export function widgetPolicy(nonce: string | null, frameAncestors: readonly string[]): string {
  return [
    "default-src 'none'",
    nonce ? `script-src 'nonce-${nonce}'` : "script-src 'none'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    `frame-ancestors ${frameAncestors.length > 0 ? frameAncestors.join(' ') : "'none'"}`,
  ].join('; ')
}

/** Headers of every widget response (pages, assets, API): no sniffing, no referrer, no caching of tokens. */
export function setWidgetHeaders(c: Context, csp: string | null, cache = 'no-store'): void {
  if (csp) c.header('Content-Security-Policy', csp)
  c.header('X-Content-Type-Options', 'nosniff')
  c.header('Referrer-Policy', 'no-referrer')
  c.header('Cache-Control', cache)
  c.header('Cross-Origin-Resource-Policy', 'same-origin')
}
