import { execFile } from 'node:child_process'
import { existsSync, mkdirSync, renameSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { DEMO_TENANTS } from '../packages/core/src/demo/index.ts'
import { generateDemoDatabase } from '../packages/core/src/service/bootstrap-demo.ts'
import { REFERENCE_DB, REFERENCE_GENERATOR } from './helpers/reference.ts'

/** Where the demo tenant databases are generated once per machine for every test hub to copy. */
export const DEMO_CACHE = join(import.meta.dirname, '..', '.tmp', 'test-cache', 'tenants')

/**
 * Generate the two demo databases once (scale 1), so that each test hub starts in milliseconds, and
 * the evaluation's reference database once, for the engine suites.
 */
export default async function setup(): Promise<void> {
  mkdirSync(DEMO_CACHE, { recursive: true })
  for (const demo of DEMO_TENANTS) {
    const file = join(DEMO_CACHE, `${demo.id}.sqlite`)
    if (!existsSync(file)) await generateDemoDatabase(file, demo)
  }
  // the evaluation's reference database, which the engine suites read (generated into a temporary
  // name and renamed, so an interrupted run never leaves half a database)
  if (!existsSync(REFERENCE_DB)) {
    const partial = `${REFERENCE_DB}.${process.pid}.partial`
    await promisify(execFile)('python3', [REFERENCE_GENERATOR, partial])
    renameSync(partial, REFERENCE_DB)
  }
}
