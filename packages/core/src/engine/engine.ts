import type { DataSource } from '../db/index.ts'
import { HubError, isHubError } from '../errors.ts'
import { localPrincipal, type Principal } from '../principal.ts'
import { guardSql } from '../sql-guard/index.ts'
import { type BulkheadOptions, createBulkhead } from './bulkhead.ts'
import { type CompiledQuery, type CompileOptions, compilePlan } from './compile/compile.ts'
import { canonicalJsonRow } from './compile/json-rows.ts'
import { normalizeRows, typeOfValues } from './compile/rows.ts'
import { createDataRanges } from './data-range.ts'
import { executeReadOnly } from './execute.ts'
import { cancelled, timedOut } from './execute-errors.ts'
import { streamReadOnly } from './execute-stream.ts'
import type { LlmPlanner } from './llm/cohere-planner.ts'
import { createLlmFallback, type LlmPlanned } from './llm/fallback.ts'
import type { SemanticModel } from './model-types.ts'
import { buildLexicon, type Lexicon } from './nl/lexicon.ts'
import { type PlannedQuestion, planQuestion } from './nl/planner.ts'
import { withSuggestions } from './nl/refuse.ts'
import { type QueryPlan, QueryPlanSchema } from './plan.ts'
import { resolveRowScopes } from './policy.ts'
import type { AskInput, AskResult, DatasetSummary, QueryResult, ResultColumn, SqlInput } from './results.ts'
import { summarizeModel } from './summarize.ts'
import { emptyValueIndex, type ValueIndex } from './values/value-index.ts'
import {
  fieldVisible,
  roleVisibleModel,
  viewKey,
  visibleModel,
  type WithheldDataset,
  withheldDatasets,
  withheldError,
} from './visibility.ts'

/** Every ASCII character and some beyond (Latin-1, line/paragraph separators, BOM, an astral emoji). */
const JSON_QUOTE_PROBE = `${Array.from({ length: 128 }, (_, i) => String.fromCharCode(i)).join('')}é\u00a0\u2028\u2029\ufeff😀`

export interface EngineOptions {
  ds: DataSource
  model: SemanticModel
  valueIndex?: ValueIndex
  /** Rows returned at most (more are cut and `truncated` is set). */
  maxRows?: number
  timeoutMs?: number
  /** The deadline of one `cursor` read, however many rows it streams (default one hour). */
  streamTimeoutMs?: number
  /** Per-tenant concurrency cap (the engine is per tenant); default 4 running, 32 waiting. */
  concurrency?: BulkheadOptions
  /** Optional LLM planner, asked only when the deterministic parser refuses (engine/llm/). */
  llm?: LlmPlanner
  /** Values per indexed column the LLM may see in the model card (default 0: none). */
  llmValueSamples?: number
}

export interface CallOptions {
  signal?: AbortSignal
}

/**
 * How a plan's rows are read. `json`: plain rows as one JSON text per row (these output names, in
 * order) when the dialect and columns allow — then the result's first column is `JSON_ROW_COLUMN`
 * and the others are the plan's order columns; otherwise the rows come as usual (see json-rows.ts).
 */
export type ReadOptions = CompileOptions

/** The principal's view of the model, and the parser's vocabulary for it (built once per `viewKey`). */
interface View {
  /** What the principal may read: every compile and listing uses this. */
  model: SemanticModel
  /** The model by role alone, for NL planning, so a withheld dataset is refused by name. */
  planning: SemanticModel
  /** Datasets a binding row policy cannot scope, by name. */
  withheld: Map<string, WithheldDataset>
  lexicon: Lexicon
  summary?: DatasetSummary[]
}

/** Every dataset a plan reads: its root and the dataset of each `dataset.field` it names. */
function planDatasets(p: QueryPlan): Set<string> {
  const out = new Set<string>([p.dataset])
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) for (const x of v) walk(x)
    else if (v && typeof v === 'object')
      for (const [k, x] of Object.entries(v)) {
        if (k === 'field' && typeof x === 'string' && x.includes('.')) out.add(x.split('.')[0] ?? '')
        else walk(x)
      }
  }
  walk(p)
  return out
}

/** Principal for planning when none is given: sees everything that is not hidden. */
const PLANNER = localPrincipal('planner', ['admin'])

/**
 * One tenant's query engine: plan (NL → QueryPlan, pure), compile (plan → SQL with the principal's
 * row scope), and execute read-only with a timeout and a row cap.
 */
export function createEngine(options: EngineOptions) {
  const { ds, model } = options
  const values = options.valueIndex ?? emptyValueIndex()
  const maxRows = options.maxRows ?? 10_000
  const timeoutMs = options.timeoutMs ?? 15_000
  const streamTimeoutMs = options.streamTimeoutMs ?? 3_600_000
  const views = new Map<string, View>()
  const bulkhead = createBulkhead(options.concurrency ?? { maxConcurrent: 4, maxQueued: 32 })
  const ranges = createDataRanges(ds, model)
  const llm = options.llm ? createLlmFallback(options.llm, values, options.llmValueSamples ?? 0) : undefined

  /**
   * Visibility depends on roles (columns) and on which row rules bind the principal (withheld
   * datasets); attribute values drive row scopes only.
   */
  function view(principal: Principal): View {
    const key = viewKey(model, principal)
    let v = views.get(key)
    if (!v) {
      v = {
        model: visibleModel(model, principal),
        planning: roleVisibleModel(model, principal),
        withheld: new Map(withheldDatasets(model, principal).map((w) => [w.dataset, w])),
        lexicon: buildLexicon(model, values, (f) => fieldVisible(f, principal)),
      }
      views.set(key, v)
    }
    return v
  }

  /** Refuse, by name, a plan that reads a dataset the principal's row policy cannot scope. */
  function assertScopable(v: View, p: QueryPlan): void {
    for (const name of planDatasets(p)) {
      const w = v.withheld.get(name)
      if (w) throw withheldError(w)
    }
  }

  function examples(principal: Principal): string[] {
    return summarize(principal)
      .flatMap((d) => d.examples)
      .slice(0, 3)
  }

  function plan(question: string, opts: { asOf?: string; principal?: Principal } = {}): PlannedQuestion {
    const principal = opts.principal ?? PLANNER
    const v = view(principal)
    try {
      const planned = planQuestion(question, v.planning, v.lexicon, opts.asOf)
      assertScopable(v, planned.plan)
      return planned
    } catch (err) {
      throw withSuggestions(err, isHubError(err) ? safeExamples(principal) : [])
    }
  }

  /**
   * `plan`, and when it refuses and an LLM planner is configured, the LLM's plan — validated and
   * compiled for the principal before it is returned. Without an LLM planner this is `plan`.
   */
  async function planAny(
    question: string,
    opts: { asOf?: string; principal?: Principal } = {},
  ): Promise<PlannedQuestion | LlmPlanned> {
    try {
      return plan(question, opts)
    } catch (err) {
      if (!llm) throw err
      const principal = opts.principal ?? PLANNER
      return llm.plan(
        question,
        err,
        { principal, asOf: opts.asOf, viewKey: viewKey(model, principal), model: view(principal).model },
        (p) => compile(p, principal),
      )
    }
  }

  /** Example questions for refusals; never lets a failure here mask the refusal itself. */
  function safeExamples(principal: Principal): string[] {
    try {
      return examples(principal)
    } catch {
      return []
    }
  }

  function compile(p: QueryPlan, principal: Principal, read: ReadOptions = {}): CompiledQuery {
    const parsed = QueryPlanSchema.safeParse(p)
    if (!parsed.success)
      throw new HubError(
        'VALIDATION_FAILED',
        `Invalid query plan: ${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message}`,
      )
    const v = view(principal)
    assertScopable(v, parsed.data)
    return compilePlan(v.model, parsed.data, ds.knex, ds.dialect, resolveRowScopes(model, principal), read)
  }

  async function run(
    compiled: { sql: string; bindings: readonly unknown[]; json?: { text: boolean } },
    columns: ResultColumn[] | undefined,
    cap: number,
    call: CallOptions,
  ): Promise<QueryResult> {
    const started = performance.now()
    // One deadline: the time spent waiting for a slot of this tenant counts against the query's.
    const queueLimit = AbortSignal.timeout(timeoutMs)
    const res = await bulkhead.run(
      () => {
        const left = Math.max(1, timeoutMs - Math.round(performance.now() - started))
        return executeReadOnly(ds, compiled, { timeoutMs: left, maxRows: cap, signal: call.signal }).catch(
          (err: unknown) => {
            // Name the configured limit, not what was left of it after waiting for a slot.
            throw isHubError(err) && err.code === 'QUERY_TIMEOUT' ? timedOut(timeoutMs, err.cause) : err
          },
        )
      },
      call.signal ? AbortSignal.any([call.signal, queueLimit]) : queueLimit,
      (reason) => (call.signal?.aborted ? cancelled(reason) : timedOut(timeoutMs)),
    )
    const cols =
      columns ?? res.columns.map((name, i) => ({ name, label: name, type: typeOfValues(res.rows, i) }))
    const rows = normalizeRows(res.rows, cols)
    if (compiled.json) {
      const text = compiled.json.text
      for (const r of rows) r[0] = canonicalJsonRow(r[0] as Buffer, text)
    }
    return {
      columns: cols,
      rows,
      rowCount: rows.length,
      truncated: res.truncated,
      durationMs: Math.round(performance.now() - started),
      sql: compiled.sql,
    }
  }

  /**
   * Whether the server's JSON_QUOTE writes strings as JSON.stringify does (after the engine's escape
   * check), asked once per engine with a probe of every ASCII character and some others; JSON rows
   * are read only when it does. A server that cannot run it (no JSON_QUOTE) answers no for good; a
   * failure to reach it leaves the question open.
   */
  let jsonQuote: Promise<boolean> | boolean | undefined = ds.dialect === 'mysql' ? undefined : false
  async function jsonQuoteExact(): Promise<boolean> {
    if (jsonQuote === undefined)
      jsonQuote = executeReadOnly(
        ds,
        { sql: 'SELECT CONVERT(JSON_QUOTE(?) USING binary)', bindings: [JSON_QUOTE_PROBE] },
        { timeoutMs, maxRows: 1 },
      ).then(
        (res) => {
          const quoted = res.rows[0]?.[0]
          jsonQuote =
            Buffer.isBuffer(quoted) &&
            canonicalJsonRow(quoted, true).toString('utf8') === JSON.stringify(JSON_QUOTE_PROBE)
          return jsonQuote
        },
        (err: unknown) => {
          jsonQuote = isHubError(err) && err.code === 'BAD_REQUEST' ? false : undefined
          return false
        },
      )
    return jsonQuote
  }

  async function query(
    principal: Principal,
    p: QueryPlan,
    call: CallOptions = {},
    limit?: number,
    read: ReadOptions = {},
  ): Promise<QueryResult> {
    const cap = Math.max(1, Math.min(limit ?? maxRows, maxRows))
    const capped: QueryPlan = {
      ...p,
      limit: p.limit !== null && p.limit !== undefined && p.limit <= cap ? p.limit : cap + 1,
    }
    const json = read.json && (await jsonQuoteExact()) ? read : {}
    const compiled = compile(capped, principal, json)
    return run(compiled, compiled.columns, cap, call)
  }

  async function ask(principal: Principal, input: AskInput, call: CallOptions = {}): Promise<AskResult> {
    const planned = await planAny(input.question, { asOf: input.asOf, principal })
    const [result, warnings] = await Promise.all([
      query(principal, planned.plan, call, input.limit),
      ranges.warnings(planned.plan),
    ])
    return {
      ...result,
      question: input.question,
      interpretation: planned.interpretation,
      plan: planned.plan,
      warnings,
      ...('planner' in planned ? { planner: planned.planner.name, plannerModel: planned.planner.model } : {}),
    }
  }

  async function sql(principal: Principal, input: SqlInput, call: CallOptions = {}): Promise<QueryResult> {
    const cap = Math.max(1, Math.min(input.limit ?? maxRows, maxRows))
    const guarded = guardSql(input.sql, { dialect: ds.dialect, model, principal, maxRows: cap })
    return run(guarded, undefined, cap, call)
  }

  /** Page through a plan's rows in a stable order (offset pages of `pageSize`). */
  async function* stream(
    principal: Principal,
    p: QueryPlan,
    call: CallOptions & { pageSize?: number } = {},
  ): AsyncGenerator<QueryResult> {
    const pageSize = Math.max(1, Math.min(call.pageSize ?? 5000, maxRows))
    const base = QueryPlanSchema.parse(p)
    const outputs = [
      ...base.dimensions.map((d) => d.as),
      ...base.measures.map((m) => m.as),
      ...base.select.map((s) => s.as),
    ]
    const order = [
      ...base.order,
      ...outputs
        .filter((o) => !base.order.some((x) => x.by === o))
        .map((by) => ({ by, direction: 'asc' as const })),
    ]
    let offset = base.offset
    let remaining = base.limit ?? Number.POSITIVE_INFINITY
    while (remaining > 0) {
      const take = Math.min(pageSize, remaining)
      const page = compile({ ...base, order, limit: take, offset }, principal)
      const result = await run(page, page.columns, take, call)
      yield result
      if (result.rowCount < take) return
      offset += take
      remaining -= take
    }
  }

  /**
   * Every row of a plan as one read, in batches of `batchRows` (no row cap: the export door). On
   * MariaDB/MySQL and PostgreSQL one statement streams with back-pressure from one snapshot
   * (execute-stream.ts), bounded by the stream deadline instead of the query one; on SQLite, which
   * runs in worker processes with no network to stream over, it is `stream`'s ordered pages.
   * A result with no rows still yields one (empty) batch, so a reader always learns the columns.
   */
  async function* cursor(
    principal: Principal,
    p: QueryPlan,
    call: CallOptions & { batchRows?: number } = {},
  ): AsyncGenerator<QueryResult> {
    const batchRows = Math.max(1, Math.min(call.batchRows ?? 5000, maxRows))
    if (ds.dialect === 'sqlite') {
      yield* stream(principal, p, { ...call, pageSize: batchRows })
      return
    }
    const compiled = compile(p, principal)
    const batch = (rows: QueryResult['rows'], durationMs: number): QueryResult => ({
      columns: compiled.columns,
      rows,
      rowCount: rows.length,
      truncated: false,
      durationMs,
      sql: compiled.sql,
    })
    let last = performance.now()
    let yielded = false
    for await (const raw of streamReadOnly(ds, compiled, {
      timeoutMs: streamTimeoutMs,
      batchRows,
      ...(call.signal ? { signal: call.signal } : {}),
    })) {
      yielded = true
      yield batch(normalizeRows(raw, compiled.columns), Math.round(performance.now() - last))
      last = performance.now()
    }
    if (!yielded) yield batch([], 0)
  }

  function summarize(principal: Principal): DatasetSummary[] {
    const v = view(principal)
    if (v.summary) return v.summary
    v.summary = summarizeModel(v.model, (q) => {
      try {
        planQuestion(q, v.model, v.lexicon, '2025-01-15')
        return true
      } catch {
        return false
      }
    })
    return v.summary
  }

  /** Datasets hidden from the principal because the row policy that binds it cannot scope them. */
  function withheld(principal: Principal): WithheldDataset[] {
    return [...view(principal).withheld.values()]
  }

  return {
    model,
    dialect: ds.dialect,
    plan,
    planAny,
    compile,
    ask,
    query,
    sql,
    stream,
    cursor,
    summarize,
    withheld,
    warnings: ranges.warnings,
  }
}

export type Engine = ReturnType<typeof createEngine>
