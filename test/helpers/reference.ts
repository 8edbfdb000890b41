import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { type DataSource, introspect, openDataSource } from '../../packages/core/src/db/index.ts'
import {
  buildValueIndex,
  createEngine,
  type Engine,
  inferModel,
  loadOverrides,
} from '../../packages/core/src/engine/index.ts'
import { EVAL, REPO } from './fixtures.ts'

const GENERATOR = join(EVAL, 'reference_pharma.py')

/**
 * The pharma reference database that the evaluation's own generator builds, generated once per
 * machine by test/global-setup.ts and named by the generator's hash (a changed generator builds a
 * new one). Engine suites open it read-only; one that hands it to other processes copies it.
 */
export const REFERENCE_DB = join(
  REPO,
  '.tmp',
  'test-cache',
  `reference-pharma-${createHash('sha256').update(readFileSync(GENERATOR)).digest('hex').slice(0, 12)}.sqlite`,
)

export { GENERATOR as REFERENCE_GENERATOR }

/** The reference database read-only, with the engine on the bundled pharma model. */
export async function openReferenceEngine(): Promise<{ ds: DataSource; engine: Engine }> {
  const ds = openDataSource(`sqlite:${REFERENCE_DB}`, { readOnly: true })
  const model = inferModel(await introspect(ds), await loadOverrides('pharma'))
  return { ds, engine: createEngine({ ds, model, valueIndex: await buildValueIndex(ds, model) }) }
}
