import { ASSET_PREFIX, widgetAssets } from './assets.ts'

/** What the page's script starts from (JSON in a data block: never executed, never a hub key). */
export interface Boot {
  tenant: string
  /** Origins the widget may post to and accept messages from (patterns of the allow-list). */
  origins: string[]
  /** A Canvas page arrives with its session; an embed page exchanges the fragment's token. */
  session?: { token: string; expiresAt: string }
  /** The first screen's data, read with the session (Canvas). */
  overview?: unknown
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`)

/** JSON safe inside <script>: no `<`, so no `</script>` or `<!--` can end the block. */
const scriptJson = (v: unknown) =>
  JSON.stringify(v)
    .replace(/</g, '\\u003c')
    .replace(/\u2028|\u2029/g, ' ')

export function widgetPage(boot: Boot, nonce: string): string {
  const { js, css } = widgetAssets()
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>HCP insights — NL2Q</title>
<link rel="stylesheet" href="${ASSET_PREFIX}${css}">
<script type="application/json" id="nl2q-boot">${scriptJson(boot)}</script>
<script nonce="${nonce}" src="${ASSET_PREFIX}${js}" defer></script>
</head><body>
<main id="app" aria-busy="true"><p class="status" role="status">Loading HCP insights…</p></main>
</body></html>`
}

/** A refusal shown in the frame: what went wrong and what to do, with the request id; no script. */
export function errorPage(title: string, detail: string, code: string, requestId: string): string {
  const { css } = widgetAssets()
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(title)} — NL2Q</title>
<link rel="stylesheet" href="${ASSET_PREFIX}${css}">
</head><body>
<main id="app"><section class="error" role="alert" data-code="${escapeHtml(code)}">
<h1>${escapeHtml(title)}</h1><p>${escapeHtml(detail)}</p>
<p class="meta">Error ${escapeHtml(code)} · request ${escapeHtml(requestId)}</p>
</section></main>
</body></html>`
}
