import { readFile } from 'node:fs/promises'
import type { Command } from 'commander'
import type { AskInput, AskResult } from '../../engine/results.ts'
import { HubError, isHubError } from '../../errors.ts'
import { localPrincipal } from '../../principal.ts'

/**
 * `hub ask "<question>" (--tenant <id> | --db <url> [--model <name|path>]) [--as-of D] [--json] [--batch FILE]`
 * runs as the local operator. Batch mode prints exactly one JSON object per question line on stdout
 * (see ask-batch.ts) and exits 1 when a line failed for a reason other than a refusal.
 */
interface AskOptions {
  tenant?: string
  db?: string
  model?: string
  asOf?: string
  json?: boolean
  batch?: string
  limit?: string
}

/** Where questions go: the audited hub of a tenant, or an engine on a local file (`--db`). */
interface Opened {
  ask(input: AskInput): Promise<AskResult>
  close(): Promise<void>
}

async function open(opts: AskOptions): Promise<Opened> {
  if (opts.tenant && opts.db) throw new HubError('BAD_REQUEST', 'Use either --tenant or --db, not both')
  if (opts.tenant) {
    if (opts.model) throw new HubError('BAD_REQUEST', '--model goes with --db; a tenant has its own model')
    const { openTenantHub } = await import('../../tenants/index.ts')
    const opened = await openTenantHub(opts.tenant)
    return { ask: (input) => opened.hub.ask(input), close: () => opened.close() }
  }
  if (!opts.db) throw new HubError('BAD_REQUEST', 'Say which data to ask: --tenant <id> or --db <url>')
  // imported here, not above: `hub --help` should not load the engine
  const { introspect, openDataSource } = await import('../../db/index.ts')
  const { buildValueIndex, createEngine, inferModel, loadOverrides, withInferredKeys } = await import(
    '../../engine/index.ts'
  )
  const ds = openDataSource(opts.db, { readOnly: true })
  try {
    const schema = await withInferredKeys(await introspect(ds), ds)
    const overrides = opts.model ? await loadOverrides(opts.model) : undefined
    const model = inferModel(schema, overrides)
    const valueIndex = await buildValueIndex(ds, model)
    const engine = createEngine({ ds, model, valueIndex })
    const principal = localPrincipal('local')
    return { ask: (input) => engine.ask(principal, input), close: () => ds.knex.destroy() }
  } catch (err) {
    await ds.knex.destroy()
    throw err
  }
}

function errorJson(err: unknown): { code: string; message: string } {
  if (isHubError(err)) return { code: err.code, message: err.message }
  return { code: 'INTERNAL', message: err instanceof Error ? err.message : String(err) }
}

function answerJson(id: unknown, r: AskResult) {
  return {
    id,
    ok: true,
    sql: r.sql,
    columns: r.columns,
    rows: r.rows,
    interpretation: r.interpretation,
    truncated: r.truncated,
    ...(r.warnings.length ? { warnings: r.warnings } : {}),
  }
}

/**
 * Answers every line of a batch file, one JSON object per question line on stdout. Resolves to
 * whether any line failed for a reason other than a refusal (a malformed line, a server fault).
 */
async function runBatch(o: Opened, file: string, asOf: string | undefined): Promise<boolean> {
  let failed = false
  const { isRefusal, parseBatch } = await import('./ask-batch.ts')
  for (const line of parseBatch(await readFile(file, 'utf8'))) {
    let out: unknown
    try {
      if ('error' in line) throw line.error
      const when = line.asOf ?? asOf
      const r = await o.ask({ question: line.question, ...(when ? { asOf: when } : {}) })
      out = answerJson(line.id, r)
    } catch (err) {
      if (!isRefusal(err)) failed = true
      out = { id: line.id, ok: false, error: errorJson(err) }
    }
    process.stdout.write(`${JSON.stringify(out)}\n`)
  }
  return failed
}

function printTable(r: AskResult): void {
  const head = r.columns.map((c) => c.name)
  const body = r.rows.map((row) => row.map((v) => (v === null ? '' : String(v))))
  const widths = head.map((h, i) => Math.min(40, Math.max(h.length, ...body.map((b) => (b[i] ?? '').length))))
  const fmt = (cells: string[]) => cells.map((c, i) => c.slice(0, 40).padEnd(widths[i] ?? 0)).join('  ')
  const out = [
    r.interpretation,
    ...r.warnings.map((w) => `Warning: ${w}`),
    '',
    fmt(head),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...body.map(fmt),
  ]
  out.push(
    '',
    `${r.rowCount} row(s)${r.truncated ? ' (truncated)' : ''} in ${r.durationMs} ms`,
    `SQL: ${r.sql ?? ''}`,
  )
  process.stdout.write(`${out.join('\n')}\n`)
}

export function register(program: Command): void {
  program
    .command('ask')
    .description('Ask a question in plain English (as the local operator)')
    .argument('[question]', 'the question; omit with --batch')
    .option('--tenant <id>', 'a registered tenant')
    .option('--db <url>', 'a data source URL (sqlite:<path>, mysql://… or postgres://…)')
    .option('--model <name|path>', 'model overrides for --db: a bundled name (pharma) or a YAML/JSON file')
    .option('--as-of <date>', 'reference date for relative periods (YYYY-MM-DD)')
    .option('--limit <n>', 'rows to return at most')
    .option('--json', 'JSON output')
    .option(
      '--batch <file>',
      'one question per line, plain or {"id","question","asOf"?}; # comments and blank lines skipped; one JSON answer per question',
    )
    .action(async (question: string | undefined, opts: AskOptions) => {
      const o = await open(opts)
      try {
        if (opts.batch) {
          // Refusals are answers; anything else (a malformed line, a fault) fails the run.
          if (await runBatch(o, opts.batch, opts.asOf)) process.exitCode = 1
          return
        }
        if (!question) throw new HubError('BAD_REQUEST', 'Ask a question, or pass --batch FILE')
        try {
          const r = await o.ask({
            question,
            ...(opts.asOf ? { asOf: opts.asOf } : {}),
            ...(opts.limit ? { limit: Number(opts.limit) } : {}),
          })
          if (opts.json) process.stdout.write(`${JSON.stringify({ ok: true, ...r })}\n`)
          else printTable(r)
        } catch (err) {
          if (!opts.json || !isHubError(err)) throw err
          process.stdout.write(
            `${JSON.stringify({ ok: false, error: { ...errorJson(err), ...err.details } })}\n`,
          )
          process.exitCode = 2
        }
      } finally {
        await o.close()
      }
    })
}
