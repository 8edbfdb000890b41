import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'

/**
 * The team's shared folder (eval questions, checker, reference generator, corpora): beside the
 * repository in CI and on developer machines. A suite that needs it fails loudly without it.
 */
export const REPO = resolve(import.meta.dirname, '..', '..')

export const SHARED: string = (() => {
  const found = [join(REPO, '..', 'shared'), '/work/shared'].find((p) =>
    existsSync(join(p, 'eval', 'check.py')),
  )
  if (!found) throw new Error(`shared/ (eval, corpora) not found beside ${REPO}`)
  return found
})()
