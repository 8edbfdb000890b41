import { randomUUID } from 'node:crypto'
import { createAuditLog } from '../audit/index.ts'
import { loadConfig } from '../config/index.ts'
import { type BoundHub, bindHub } from '../connectors/bound-hub.ts'
import { createHub } from '../hub/hub.ts'
import { openMetadataStore } from '../metadata/store.ts'
import { localPrincipal, type Principal } from '../principal.ts'
import { secretBoxFor } from '../secrets/index.ts'
import { createTenantRegistry } from './registry.ts'

/**
 * Operator access from the CLI on the hub's own machine: opens the configured metadata store and
 * hands back the audited hub bound to the local operator of one tenant (closed by `close()`). Every
 * read — ask, query, sql, stream — goes through the hub facade, so it is audited (channel `cli`)
 * like any other; there is no engine handle that could skip the audit.
 */
export async function openTenantHub(
  tenantId: string,
): Promise<{ hub: BoundHub; principal: Principal; close(): Promise<void> }> {
  const config = loadConfig()
  const metadata = openMetadataStore(config.databaseUrl, config.home)
  await metadata.migrate()
  const tenants = createTenantRegistry({ metadata, baseDir: config.home, secrets: secretBoxFor(config) })
  try {
    // Fail now (unknown or removed tenant) rather than on the first question.
    await tenants.runtime(tenantId)
    const hub = createHub({ tenants, audit: createAuditLog(metadata, { home: config.home }) })
    const principal = localPrincipal(tenantId)
    return {
      hub: bindHub(hub, principal, { requestId: randomUUID(), clientIp: null, channel: 'cli' }),
      principal,
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

/** The tenant's semantic model as it serves it (inferred + its overrides), for `hub model export` (operator only). */
export async function getTenantModel(
  tenantId: string,
): Promise<import('../engine/model-types.ts').SemanticModel> {
  const config = loadConfig()
  const metadata = openMetadataStore(config.databaseUrl, config.home)
  await metadata.migrate()
  const tenants = createTenantRegistry({ metadata, baseDir: config.home, secrets: secretBoxFor(config) })
  try {
    return (await tenants.runtime(tenantId)).engine.model
  } finally {
    await tenants.close()
    await metadata.close()
  }
}
