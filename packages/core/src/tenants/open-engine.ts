import type { DataSource } from '../db/index.ts'
import { introspect } from '../db/index.ts'
import type { BulkheadOptions } from '../engine/bulkhead.ts'
import {
  buildValueIndex,
  createEngine,
  inferModel,
  loadOverrides,
  withInferredKeys,
} from '../engine/index.ts'
import { coherePlannerFromEnv, type LlmPlanner } from '../engine/llm/cohere-planner.ts'

export type Engine = ReturnType<typeof createEngine>

export interface OpenEngineOptions {
  /** Overrides: a bundled model name (`pharma`) or a YAML/JSON path; null = purely inferred. */
  model: string | null
  maxRows?: number
  timeoutMs?: number
  streamTimeoutMs?: number
  concurrency?: BulkheadOptions
}

let llmPlanner: { planner: LlmPlanner | undefined } | undefined

/**
 * The process's LLM planner (COHERE_API_KEY set), shared by every tenant's engine so each tenant's
 * per-minute budget survives a model refresh; none without a key.
 */
function sharedLlmPlanner(): LlmPlanner | undefined {
  llmPlanner ??= { planner: coherePlannerFromEnv() }
  return llmPlanner.planner
}

/** Introspect a data source and build its engine: model (inferred + overrides) and value index. */
export async function openEngine(ds: DataSource, options: OpenEngineOptions): Promise<Engine> {
  const schema = await withInferredKeys(await introspect(ds), ds)
  const overrides = options.model ? await loadOverrides(options.model) : undefined
  const model = inferModel(schema, overrides)
  const valueIndex = await buildValueIndex(ds, model)
  return createEngine({
    ds,
    model,
    valueIndex,
    maxRows: options.maxRows,
    timeoutMs: options.timeoutMs,
    streamTimeoutMs: options.streamTimeoutMs,
    concurrency: options.concurrency,
    llm: sharedLlmPlanner(),
    llmValueSamples: Number(process.env.HUB_LLM_VALUE_SAMPLES ?? 0) || 0,
  })
}
