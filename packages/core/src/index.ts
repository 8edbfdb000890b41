// @nl2q/core public API. Adding a name here makes it public: connectors import only from this file.
export {
  AskInputSchema,
  AskResultSchema,
  askInputSchema,
  DatasetNameSchema,
  DatasetSummarySchema,
  DimensionSummarySchema,
  IsoDateSchema,
  MAX_ROW_LIMIT,
  MeasureSummarySchema,
  ProblemSchema,
  QueryResultSchema,
  QuestionSchema,
  ResultColumnSchema,
  ResultColumnTypeSchema,
  RowSchema,
  rowLimitSchema,
  SqlInputSchema,
  sqlInputSchema,
} from './api/schemas.ts'
export { type AuditLog, auditEventFor, createAuditLog } from './audit/index.ts'
export {
  type Authenticator,
  type AuthFailure,
  type AuthOutcome,
  createApiKey,
  createAuthenticator,
  listApiKeys,
  revokeApiKey,
} from './auth/index.ts'
export { canonicalHash, canonicalJson, planHash, policyKey, sha256Hex } from './canonical/index.ts'
export { EnvSchema, type HubConfig, loadConfig } from './config/index.ts'
export {
  type BoundHub,
  bindAudit,
  bindHub,
  type CallOptions,
  type ClaimsContext,
  type CommandContext,
  type ConfigOf,
  type ConfigSchema,
  type Connector,
  type ConnectorMetrics,
  type ConnectorSecrets,
  type ConnectorState,
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
  type StateTable,
  type TenantAudit,
  type TenantScope,
  type VerifiedToken,
} from './connectors/index.ts'
export {
  type DataSource,
  type Dialect,
  HUB_TABLE_PREFIX,
  introspect,
  openDataSource,
  type SchemaInfo,
} from './db/index.ts'
export { JSON_ROW_COLUMN } from './engine/compile/json-rows.ts'
export type { ReadOptions } from './engine/engine.ts'
export type { Dataset, Field, SemanticModel } from './engine/model-types.ts'
export {
  type ComparisonOp,
  FieldRefSchema,
  FilterSchema,
  type PlanDimension,
  type PlanFilter,
  type PlanMeasure,
  type PlanOrder,
  type QueryPlan,
  QueryPlanSchema,
  type Scalar,
  type TimeGrain,
} from './engine/plan.ts'
export { ErrorCode, HubError, type HubErrorOptions, isHubError } from './errors.ts'
export type {
  AskInput,
  AskResult,
  AuditEventInput,
  DatasetSummary,
  Hub,
  QueryResult,
  RequestContext,
  ResultColumn,
  ResultColumnType,
  Row,
  SqlInput,
} from './hub/index.ts'
export { createHub, sha256 } from './hub/index.ts'
export {
  hasRole,
  localPrincipal,
  type Principal,
  PrincipalSchema,
  ROLES,
  type Role,
  RoleSchema,
} from './principal.ts'
export { type Problem, problemFor, problemResponse, toHubError } from './service/errors.ts'
export { createRouter } from './service/openapi.ts'
export { requestContext } from './service/routes/data.ts'
export { type CreateHubAppOptions, createHubApp, type RunningHub, startHub } from './service/server.ts'
