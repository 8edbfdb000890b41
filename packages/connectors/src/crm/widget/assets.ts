import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { HubError } from '@nl2q/core'

/** Where `pnpm run build` (scripts/build-widget.mjs) writes the bundle: the same from src/ and dist/. */
export const ASSET_DIR = fileURLToPath(new URL('../../../assets/widget/', import.meta.url))
export const ASSET_PREFIX = '/crm/widget/assets/'

export interface WidgetAssets {
  /** Content-hashed file names. */
  js: string
  css: string
  files: Map<string, { body: Buffer; type: string }>
}

let loaded: WidgetAssets | undefined

/** The built bundle (read once); a hub built without it refuses the page rather than serve half. */
export function widgetAssets(): WidgetAssets {
  if (loaded) return loaded
  let manifest: { js: string; css: string }
  try {
    manifest = JSON.parse(readFileSync(`${ASSET_DIR}manifest.json`, 'utf8')) as { js: string; css: string }
  } catch (cause) {
    throw new HubError('SERVICE_UNAVAILABLE', 'The CRM widget is not built: run pnpm run build', { cause })
  }
  const files = new Map<string, { body: Buffer; type: string }>([
    [manifest.js, { body: readFileSync(ASSET_DIR + manifest.js), type: 'text/javascript; charset=utf-8' }],
    [manifest.css, { body: readFileSync(ASSET_DIR + manifest.css), type: 'text/css; charset=utf-8' }],
  ])
  loaded = { ...manifest, files }
  return loaded
}
