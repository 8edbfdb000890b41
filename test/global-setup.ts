import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { DEMO_TENANTS } from '../packages/core/src/demo/index.ts'
import { generateDemoDatabase } from '../packages/core/src/service/bootstrap-demo.ts'

/** Where the demo tenant databases are generated once per machine for every test hub to copy. */
export const DEMO_CACHE = join(import.meta.dirname, '..', '.tmp', 'test-cache', 'tenants')

/** Generate the two demo databases once (scale 1), so that each test hub starts in milliseconds. */
export default async function setup(): Promise<void> {
  mkdirSync(DEMO_CACHE, { recursive: true })
  for (const demo of DEMO_TENANTS) {
    const file = join(DEMO_CACHE, `${demo.id}.sqlite`)
    if (!existsSync(file)) await generateDemoDatabase(file, demo)
  }
}
