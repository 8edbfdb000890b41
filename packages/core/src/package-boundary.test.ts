import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'

const PACKAGES = join(import.meta.dirname, '..', '..')

function sources(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.(ts|mts|js|mjs)$/.test(f) && !f.includes('node_modules') && !f.startsWith('dist'))
    .map((f) => join(dir, f))
}

describe('package boundaries', () => {
  it('never imports from the repository-root test folder inside a package', () => {
    const offenders = readdirSync(PACKAGES).flatMap((pkg) =>
      sources(join(PACKAGES, pkg, 'src')).filter((file) =>
        /from\s+'(\.\.\/)+test\//.test(readFileSync(file, 'utf8')),
      ),
    )
    expect(offenders).toEqual([])
  })
})
