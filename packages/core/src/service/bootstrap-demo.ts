import { chmod, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Logger } from 'pino'
import { createApiKey } from '../auth/index.ts'
import { openDataSource } from '../db/index.ts'
import { DEMO_TENANTS, type DemoTenant, seedPharma } from '../demo/index.ts'
import type { MetadataStore } from '../metadata/store.ts'
import type { TenantRegistry } from '../tenants/registry.ts'

/**
 * Generate one demo tenant's SQLite database at scale 1 into a temporary file and rename it into
 * place, so that `file` either does not exist or is complete.
 */
export async function generateDemoDatabase(file: string, demo: DemoTenant): Promise<void> {
  const tmp = `${file}.${process.pid}.partial`
  await rm(tmp, { force: true })
  const ds = openDataSource(`sqlite:${tmp}`)
  try {
    await seedPharma(ds, { prefix: demo.prefix, seed: demo.seed, scale: 1 })
    await ds.knex.raw('PRAGMA journal_mode = DELETE')
  } finally {
    await ds.knex.destroy()
  }
  await rm(`${tmp}-wal`, { force: true })
  await rm(`${tmp}-shm`, { force: true })
  await rename(tmp, file)
}

export interface DemoKey {
  tenant: string
  keyFile: string
  secret: string
  /** True only on the start that issued the key: the only time `hub start` prints it. */
  created: boolean
}

/**
 * The embedded default: two demo tenants with their own SQLite database generated from the pharma
 * schema, and an admin API key for each written to HUB_HOME/<tenant>.key (0600). Idempotent: a
 * second start reuses everything. A database is generated into a temporary file and renamed into
 * place, so an interrupted first start never leaves a half-filled database behind.
 */
export async function ensureDemo(opts: {
  home: string
  metadata: MetadataStore
  tenants: TenantRegistry
  logger: Logger
}): Promise<DemoKey[]> {
  const { home, metadata, tenants, logger } = opts
  const dir = join(home, 'tenants')
  await mkdir(dir, { recursive: true })
  const keys: DemoKey[] = []
  for (const demo of DEMO_TENANTS) {
    const file = join(dir, `${demo.id}.sqlite`)
    const keyFile = join(home, `${demo.id}.key`)
    if (!(await tenants.exists(demo.id))) {
      // A database file in place is complete (it is only ever renamed into place): reuse it.
      if (!(await stat(file).catch(() => null))) {
        const started = performance.now()
        await generateDemoDatabase(file, demo)
        logger.info({ tenant: demo.id, ms: Math.round(performance.now() - started) }, 'demo tenant generated')
      }
      // Generated from the pharma schema just above: no need to open it twice at start-up.
      await tenants.add({ id: demo.id, dbUrl: `sqlite:${file}`, model: 'pharma', check: false })
    }
    let secret = (await readFile(keyFile, 'utf8').catch(() => '')).trim()
    const created = !secret
    if (created) {
      // First start, or the operator removed the key file: issue a fresh admin key.
      secret = (await createApiKey(metadata, { tenant: demo.id, role: 'admin', label: 'demo admin' })).secret
      await writeFile(keyFile, `${secret}\n`, { mode: 0o600 })
      await chmod(keyFile, 0o600)
    }
    keys.push({ tenant: demo.id, keyFile, secret, created })
  }
  return keys
}
