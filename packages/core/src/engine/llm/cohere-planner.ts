import { CohereClientV2, CohereError, CohereTimeoutError } from 'cohere-ai'
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible'
import { llmPlanJsonSchema } from './llm-plan.ts'
import type { ModelCard } from './model-card.ts'

/**
 * The optional Cohere planner: asked only when the deterministic parser refuses and COHERE_API_KEY
 * is set. It sends the tenant's model card and the question to Chat API v2 with the plan's JSON
 * schema as the structured response format, and returns the parsed JSON — untrusted: the engine
 * validates, scopes and compiles it like any plan. Timeouts and retries are the client's
 * (timeoutInSeconds, maxRetries with backoff on 429/5xx); a per-tenant budget caps calls per minute.
 */
export interface LlmPlanner {
  name: 'cohere'
  model: string
  /** The raw plan JSON, or an LlmPlannerError. */
  propose(input: { tenant: string; question: string; asOf: string; card: ModelCard }): Promise<unknown>
}

export type LlmFailure = 'budget' | 'timeout' | 'rate_limited' | 'unavailable' | 'invalid_json' | 'no_plan'

export class LlmPlannerError extends Error {
  constructor(
    readonly reason: LlmFailure,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options)
  }
}

export interface CoherePlannerOptions {
  apiKey: string
  /** Chat model, e.g. command-a-03-2025. */
  model?: string
  /** Base URL (a loopback emulator in tests); default Cohere's production API. */
  baseUrl?: string
  timeoutMs?: number
  maxRetries?: number
  /** Calls per tenant per minute (HUB_LLM_MAX_CALLS_PER_MIN). */
  maxCallsPerMin?: number
}

const SYSTEM = `You turn an analyst's question into a JSON query plan over the semantic model below.
Rules: use only datasets and fields listed (fields as "dataset.field"); never write SQL; measures use
aggregation sum, avg, min, max, count or count_distinct (count of rows: field "<dataset>.*"); time
dimensions may set grain day, week, month, quarter or year; filters are {op, field, value|values} or
{op: "and"|"or", filters}; order "by" names an output "as"; if the question cannot be answered from
the model, return {"dataset": "", "measures": []}.`

export function createCoherePlanner(options: CoherePlannerOptions): LlmPlanner {
  const model = options.model ?? 'command-a-03-2025'
  const client = new CohereClientV2({
    token: options.apiKey,
    ...(options.baseUrl ? { baseUrl: options.baseUrl } : {}),
    timeoutInSeconds: Math.max(1, (options.timeoutMs ?? 10_000) / 1000),
    maxRetries: options.maxRetries ?? 2,
  })
  const budget = new RateLimiterMemory({ points: options.maxCallsPerMin ?? 30, duration: 60 })
  const schema = llmPlanJsonSchema()
  return {
    name: 'cohere',
    model,
    async propose({ tenant, question, asOf, card }) {
      try {
        await budget.consume(tenant)
      } catch (err) {
        if (err instanceof RateLimiterRes)
          throw new LlmPlannerError(
            'budget',
            'The LLM planner budget for this tenant is used up for this minute',
          )
        throw err
      }
      let text: string | undefined
      try {
        const res = await client.chat({
          model,
          temperature: 0,
          messages: [
            { role: 'system', content: `${SYSTEM}\nToday is ${asOf}.\nModel:\n${JSON.stringify(card)}` },
            { role: 'user', content: question },
          ],
          responseFormat: { type: 'json_object', jsonSchema: schema },
        })
        const first = res.message.content?.find((c) => c.type === 'text')
        text = first && 'text' in first ? first.text : undefined
      } catch (err) {
        // the v2 client reports its own deadline as a CohereError without a status, message "timeout"
        const timedOut =
          err instanceof CohereTimeoutError ||
          (err instanceof CohereError && err.statusCode === undefined && /timeout/i.test(err.message))
        if (timedOut) throw new LlmPlannerError('timeout', 'The LLM planner timed out', { cause: err })
        if (err instanceof CohereError && err.statusCode === 429)
          throw new LlmPlannerError('rate_limited', 'The LLM planner is rate limited', { cause: err })
        throw new LlmPlannerError('unavailable', 'The LLM planner failed', { cause: err })
      }
      if (!text) throw new LlmPlannerError('no_plan', 'The LLM planner returned no plan')
      try {
        return JSON.parse(text) as unknown
      } catch (cause) {
        throw new LlmPlannerError('invalid_json', 'The LLM planner returned text that is not JSON', { cause })
      }
    },
  }
}

/** The planner configured by the environment, or none (COHERE_API_KEY unset: today's offline behaviour). */
export function coherePlannerFromEnv(env: NodeJS.ProcessEnv = process.env): LlmPlanner | undefined {
  const apiKey = env.COHERE_API_KEY?.trim()
  if (!apiKey) return undefined
  const num = (v: string | undefined, d: number) =>
    v && Number.isFinite(Number(v)) && Number(v) > 0 ? Number(v) : d
  return createCoherePlanner({
    apiKey,
    ...(env.COHERE_MODEL ? { model: env.COHERE_MODEL } : {}),
    ...(env.COHERE_BASE_URL ? { baseUrl: env.COHERE_BASE_URL } : {}),
    timeoutMs: num(env.HUB_LLM_TIMEOUT_MS, 10_000),
    maxRetries: num(env.HUB_LLM_MAX_RETRIES, 2),
    maxCallsPerMin: num(env.HUB_LLM_MAX_CALLS_PER_MIN, 30),
  })
}
