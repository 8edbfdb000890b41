export { type BoundHub, bindAudit, bindHub, type CallOptions, type TenantAudit } from './bound-hub.ts'
export type { ConnectorMetrics } from './connector-metrics.ts'
export {
  type ClaimsContext,
  type CommandContext,
  type ConfigOf,
  type ConfigSchema,
  type Connector,
  defineConnector,
  defineJob,
  type GrantedClaims,
  type HealthCheck,
  type HubInfo,
  type Job,
  type JobContext,
  type JobRunRecord,
  type RouteContext,
  type SecurityMiddleware,
  type SetupContext,
  type TenantScope,
  type VerifiedToken,
} from './contract.ts'
export { DEFAULT_CONNECTORS, loadConnectors } from './loader.ts'
export type { ConnectorSecrets } from './secret-store.ts'
export type { ConnectorState, StateTable } from './state-store.ts'
