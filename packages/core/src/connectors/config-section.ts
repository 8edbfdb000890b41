import type { Knex } from 'knex'
import { HubError } from '../errors.ts'
import type { ConfigOf, ConfigSchema, Connector } from './contract.ts'

/** Per-tenant connector settings (`hub connector config`), strings as typed, parsed by the schema. */
export const SETTINGS_TABLE = 'connector_settings'

type Raw = Record<string, string | undefined>

/** Keys may be written as operators type them (`frame_ancestors`); their variables are upper-case. */
const envName = (connector: Connector, key: string) =>
  connector.configEnv?.[key] ?? `HUB_${connector.name.toUpperCase()}_${key.toUpperCase()}`

/** The keys of a connector's config section (empty without one). */
export function configKeys(connector: Connector): string[] {
  return connector.config ? Object.keys(connector.config.shape) : []
}

/** Read `HUB_<NAME>_<KEY>` (or the key's declared env name) for every key of the section. */
export function envSection(connector: Connector, env: NodeJS.ProcessEnv): Raw {
  return Object.fromEntries(configKeys(connector).map((k) => [k, env[envName(connector, k)]]))
}

/** Validate a section; a bad value is named by its variable, its value is never echoed. */
export function parseSection<S extends ConfigSchema>(
  connector: Connector<S>,
  raw: Raw,
  where: 'env' | 'tenant' = 'env',
): ConfigOf<S> {
  if (!connector.config) return {} as ConfigOf<S>
  const parsed = connector.config.safeParse(raw)
  if (parsed.success) return parsed.data
  const problems = parsed.error.issues.map((i) => {
    const key = String(i.path[0] ?? '')
    return `${where === 'env' ? envName(connector as Connector, key) : key}: ${i.message}`
  })
  throw new HubError('CONFIG_INVALID', `Invalid ${connector.name} configuration — ${problems.join('; ')}`)
}

export async function tenantSettings(knex: Knex, connector: string, tenant: string): Promise<Raw> {
  const rows = (await knex(SETTINGS_TABLE).where({ connector, tenant }).select('key', 'value')) as {
    key: string
    value: string
  }[]
  return Object.fromEntries(rows.map((r) => [r.key, r.value]))
}

/** The section for one tenant: env values overlaid with the tenant's settings, then validated. */
export async function configForTenant<S extends ConfigSchema>(
  knex: Knex,
  connector: Connector<S>,
  env: Raw,
  tenant: string,
): Promise<ConfigOf<S>> {
  if (!connector.config) return {} as ConfigOf<S>
  const own = await tenantSettings(knex, connector.name, tenant)
  return parseSection(connector, { ...env, ...own }, 'tenant')
}

/** `hub connector config`: store settings for a tenant after checking them against the schema. */
export async function setTenantSettings(
  knex: Knex,
  connector: Connector,
  env: Raw,
  tenant: string,
  values: Record<string, string>,
): Promise<void> {
  const keys = configKeys(connector)
  for (const key of Object.keys(values))
    if (!keys.includes(key))
      throw new HubError(
        'BAD_REQUEST',
        `The ${connector.name} connector has no setting '${key}' (${keys.join(', ') || 'none'})`,
      )
  const own = await tenantSettings(knex, connector.name, tenant)
  parseSection(connector, { ...env, ...own, ...values }, 'tenant')
  const now = new Date().toISOString()
  for (const [key, value] of Object.entries(values)) {
    await knex(SETTINGS_TABLE)
      .insert({ connector: connector.name, tenant, key, value, updated_at: now })
      .onConflict(['connector', 'tenant', 'key'])
      .merge(['value', 'updated_at'])
  }
}
