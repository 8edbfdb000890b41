import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { buildMez } from './build.ts'

/** The build artifact's default place: packages/powerbi-connector/dist/NL2Q.mez. */
export const DEFAULT_MEZ_PATH = fileURLToPath(new URL('../../dist/NL2Q.mez', import.meta.url))

/** Write NL2Q.mez to `out`; returns the absolute path and the size written. */
export function writeMez(out = DEFAULT_MEZ_PATH): { path: string; bytes: number } {
  const path = resolve(out)
  mkdirSync(dirname(path), { recursive: true })
  const mez = buildMez()
  writeFileSync(path, mez)
  return { path, bytes: mez.length }
}
