/** The query engine: semantic model, NL parser, compiler and execution for one tenant. */
export { type CompiledQuery, compilePlan } from './compile/compile.ts'
export { JSON_ROW_COLUMN } from './compile/json-rows.ts'
export { bucketSql } from './compile/time-bucket.ts'
export {
  type CallOptions,
  createEngine,
  type Engine,
  type EngineOptions,
  type ReadOptions,
} from './engine.ts'
export { executeReadOnly } from './execute.ts'
export { exportOverrides, exportOverridesYaml } from './model/export-overrides.ts'
export { inferModel } from './model/infer.ts'
export { joinPath, reachableFrom } from './model/join-graph.ts'
export {
  loadOverrides,
  type Overrides,
  OverridesSchema,
  parseOverrides,
  resolveOverridesPath,
} from './model/overrides.ts'
export { candidateKeys, withInferredKeys } from './model/relationships.ts'
export type {
  Aggregation,
  Dataset,
  Field,
  FieldKind,
  Join,
  RowPolicyRule,
  SemanticModel,
} from './model-types.ts'
export { interpret } from './nl/interpret.ts'
export type { PlannedQuestion } from './nl/planner.ts'
export {
  type PlanDimension,
  type PlanFilter,
  type PlanMeasure,
  type QueryPlan,
  QueryPlanSchema,
  type TimeGrain,
} from './plan.ts'
export { resolveRowScopes } from './policy.ts'
export { cacheKey, createResultCache, type ResultCache, type ResultCacheOptions } from './result-cache.ts'
export { buildValueIndex, type IndexedColumn, type ValueIndex } from './values/value-index.ts'
export { fieldVisible, visibleModel, type WithheldDataset, withheldDatasets } from './visibility.ts'
