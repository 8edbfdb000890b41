export { getTenantDbUrl, getTenantModel, openTenantHub } from './cli-access.ts'
export { type Engine, type OpenEngineOptions, openEngine } from './open-engine.ts'
export {
  createTenantRegistry,
  TenantIdSchema,
  type TenantInfo,
  type TenantRegistry,
  type TenantRuntime,
  type TenantSettings,
  TenantSettingsSchema,
} from './registry.ts'
