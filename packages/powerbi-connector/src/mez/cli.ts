import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { CONNECTOR_DIR } from './build.ts'
import { drawIcon, ICON_SIZES } from './png.ts'
import { writeMez } from './write.ts'

/**
 * `pnpm --filter @nl2q/powerbi-connector build:mez`: redraw the icons in connector/ (so the Power
 * Query SDK project there matches what the .mez holds) and write dist/NL2Q.mez. `pnpm hub powerbi
 * build-mez [--out]` writes only the .mez.
 */
for (const size of ICON_SIZES) writeFileSync(join(CONNECTOR_DIR, `NL2Q${size}.png`), drawIcon(size))
const { path, bytes } = writeMez()
console.log(`wrote ${path} (${bytes} bytes)`)
