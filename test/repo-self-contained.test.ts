import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { describe, expect, it } from 'vitest'
import { EVAL, REPO } from './helpers/fixtures.ts'

/**
 * A fresh clone must run its tests and benches with nothing beside it: no source, test, bench or
 * CI file may name a path outside the repository (the team's former `../shared` folder, an
 * absolute machine path).
 */
const ROOTS = ['packages', 'test', 'bench', '.ci', 'deploy', 'package.json', 'vitest.config.ts']
const SKIP = new Set(['node_modules', 'dist', '.nl2q', '.tmp'])
const CODE = /\.(ts|mts|js|mjs|json|py|sh|ya?ml)$|^run$|Dockerfile/

const OUTSIDE: Array<[string, RegExp]> = [
  ['an absolute /work/ path', /\/work\//],
  ['a ../shared path', /\.\.\/+shared\b/],
  ["a join(…, '..', 'shared') path", /['"]\.\.['"]\s*,\s*(['"]\.\.['"]\s*,\s*)?['"]shared['"]/],
  ['a shared/ data folder', /\bshared\/(eval|corpora|datasets)\b/],
]

function* files(path: string): Generator<string> {
  const st = statSync(path, { throwIfNoEntry: false })
  if (!st) return
  if (st.isFile()) {
    yield path
    return
  }
  for (const entry of readdirSync(path)) {
    if (!SKIP.has(entry)) yield* files(join(path, entry))
  }
}

describe('a fresh clone is self-contained', () => {
  it('names no path outside the repository in its source, tests, benches or CI', () => {
    const found: string[] = []
    let scanned = 0
    for (const root of ROOTS) {
      for (const file of files(join(REPO, root))) {
        const name = relative(REPO, file)
        if (!CODE.test(file.split('/').pop() ?? '') || name === 'test/repo-self-contained.test.ts') continue
        scanned++
        readFileSync(file, 'utf8')
          .split('\n')
          .forEach((line, i) => {
            for (const [what, re] of OUTSIDE)
              if (re.test(line)) found.push(`${name}:${i + 1} ${what}: ${line.trim()}`)
          })
      }
    }
    expect(scanned).toBeGreaterThan(100)
    expect(found).toEqual([])
  })

  it('keeps the evaluation files and the corpora licences in the repository', () => {
    for (const f of ['pharma-dev.jsonl', 'check.py', 'reference_pharma.py']) {
      expect(statSync(join(EVAL, f)).size).toBeGreaterThan(0)
    }
    const corpora = readdirSync(join(REPO, 'test', 'fixtures', 'corpora'))
    expect(corpora).toEqual(
      expect.arrayContaining(['LICENSE-PayloadsAllTheThings', 'LICENSE-fuzzdb', 'README.md', 'sqli']),
    )
  })
})
