import { randomUUID } from 'node:crypto'
import { createAuditLog } from '../audit/index.ts'
import { loadConfig } from '../config/index.ts'
import { createHub } from '../hub/hub.ts'
import { openMetadataStore } from '../metadata/store.ts'
import { localPrincipal } from '../principal.ts'
import { secretBoxFor } from '../secrets/index.ts'
import { createTenantRegistry, type TenantRuntime } from './registry.ts'

/**
 * Operator access from the CLI on the hub's own machine: opens the configured metadata store,
 * resolves one tenant and hands back its runtime (closed by `close()`). Questions asked through it
 * go through the hub facade, so they are audited (channel `cli`) like any other read.
 */
export async function openTenantEngine(
  tenantId: string,
): Promise<TenantRuntime & { principal: ReturnType<typeof localPrincipal>; close(): Promise<void> }> {
  const config = loadConfig()
  const metadata = openMetadataStore(config.databaseUrl, config.home)
  await metadata.migrate()
  const tenants = createTenantRegistry({ metadata, baseDir: config.home, secrets: secretBoxFor(config) })
  try {
    const rt = await tenants.runtime(tenantId)
    const hub = createHub({ tenants, audit: createAuditLog(metadata, { home: config.home }) })
    const engine: TenantRuntime['engine'] = {
      ...rt.engine,
      ask: (principal, input, call = {}) =>
        hub.ask(principal, input, {
          requestId: randomUUID(),
          clientIp: null,
          channel: 'cli',
          signal: call.signal,
        }),
    }
    return {
      ...rt,
      engine,
      principal: localPrincipal(tenantId),
      async close() {
        await tenants.close()
        await metadata.close()
      },
    }
  } catch (err) {
    await tenants.close()
    await metadata.close()
    throw err
  }
}

/** The tenant's data-source URL, for `hub demo seed --tenant` (operator only). */
export async function getTenantDbUrl(tenantId: string): Promise<string> {
  const config = loadConfig()
  const metadata = openMetadataStore(config.databaseUrl, config.home)
  try {
    await metadata.migrate()
    return await createTenantRegistry({
      metadata,
      baseDir: config.home,
      secrets: secretBoxFor(config),
    }).dbUrl(tenantId)
  } finally {
    await metadata.close()
  }
}
