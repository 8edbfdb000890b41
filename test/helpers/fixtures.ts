import { join, resolve } from 'node:path'

/** The repository root; every file a test or bench reads lives under it. */
export const REPO = resolve(import.meta.dirname, '..', '..')

/** Test data kept in the repository (see test/fixtures/README.md for where each file comes from). */
export const FIXTURES = join(REPO, 'test', 'fixtures')

/** The NL evaluation: dev questions, check.py and the independent reference generator. */
export const EVAL = join(FIXTURES, 'eval')

/** Public attack corpora (with their licences) for the security suites. */
export const CORPORA = join(FIXTURES, 'corpora')
