import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { buildMez, CONNECTOR_DIR } from './build.ts'
import { drawIcon, ICON_SIZES } from './png.ts'

/**
 * `pnpm --filter @nl2q/powerbi-connector build:mez`: write the icons into connector/ (so the SDK
 * project is complete) and dist/NL2Q.mez.
 */
const dist = fileURLToPath(new URL('../../dist/', import.meta.url))
for (const size of ICON_SIZES) writeFileSync(join(CONNECTOR_DIR, `NL2Q${size}.png`), drawIcon(size))
mkdirSync(dist, { recursive: true })
const mez = buildMez()
writeFileSync(join(dist, 'NL2Q.mez'), mez)
console.log(`wrote ${join(dist, 'NL2Q.mez')} (${mez.length} bytes)`)
