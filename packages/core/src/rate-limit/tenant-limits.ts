import type { MetadataStore } from '../metadata/store.ts'
import type { Principal } from '../principal.ts'

/** `tenants.settings` → `{"rateLimits": {"analyst": 200, "default": 500}}` (requests per window). */
export interface TenantRateSettings {
  rateLimits?: Record<string, number>
}

export interface TenantSettingsSource {
  settings(id: string): Promise<TenantRateSettings>
}

/** The budget of a principal: the highest limit among its roles, else the tenant's default, else the hub's. */
export function limitFor(principal: Principal, settings: TenantRateSettings, hubDefault: number): number {
  const limits = settings.rateLimits ?? {}
  const valid = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n > 0
  const byRole = principal.roles.map((r) => limits[r]).filter(valid)
  if (byRole.length > 0) return Math.max(...byRole)
  return valid(limits.default) ? limits.default : hubDefault
}

/** Read `tenants.settings` straight from the metadata store (when no tenant registry is given). */
export function metadataSettingsSource(metadata: MetadataStore): TenantSettingsSource {
  return {
    async settings(id) {
      const row = (await metadata.knex('tenants').where({ id }).first('settings')) as
        | { settings: string }
        | undefined
      return row ? (JSON.parse(row.settings) as TenantRateSettings) : {}
    },
  }
}

/** Settings change rarely and are read on every request: keep each tenant's for `ttlMs`. */
export function cachedSettings(source: TenantSettingsSource, ttlMs: number): TenantSettingsSource {
  const cache = new Map<string, { at: number; value: Promise<TenantRateSettings> }>()
  return {
    settings(id) {
      const hit = cache.get(id)
      if (hit && Date.now() - hit.at < ttlMs) return hit.value
      const value = source.settings(id).catch(() => ({}))
      cache.set(id, { at: Date.now(), value })
      return value
    },
  }
}
