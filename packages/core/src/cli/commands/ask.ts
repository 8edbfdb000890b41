import { readFile } from 'node:fs/promises'
import type { Command } from 'commander'
import { introspect, openDataSource } from '../../db/index.ts'
import { buildValueIndex, createEngine, type Engine, inferModel, loadOverrides } from '../../engine/index.ts'
import { HubError, isHubError } from '../../errors.ts'
import type { AskResult } from '../../hub/types.ts'
import { localPrincipal, type Principal } from '../../principal.ts'

/**
 * `hub ask "<question>" (--tenant <id> | --db <url> [--model <name|path>]) [--as-of D] [--json] [--batch FILE]`
 * runs as the local operator. Batch mode prints exactly one JSON object per input line on stdout.
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

interface Opened {
  engine: Engine
  principal: Principal
  close(): Promise<void>
}

async function open(opts: AskOptions): Promise<Opened> {
  if (opts.tenant && opts.db) throw new HubError('BAD_REQUEST', 'Use either --tenant or --db, not both')
  if (opts.tenant) {
    if (opts.model) throw new HubError('BAD_REQUEST', '--model goes with --db; a tenant has its own model')
    const { openTenantEngine } = await import('../../tenants/index.ts')
    const rt = await openTenantEngine(opts.tenant)
    return { engine: rt.engine, principal: rt.principal, close: () => rt.close() }
  }
  if (!opts.db) throw new HubError('BAD_REQUEST', 'Say which data to ask: --tenant <id> or --db <url>')
  const ds = openDataSource(opts.db, { readOnly: true })
  try {
    const schema = await introspect(ds)
    const overrides = opts.model ? await loadOverrides(opts.model) : undefined
    const model = inferModel(schema, overrides)
    const valueIndex = await buildValueIndex(ds, model)
    return {
      engine: createEngine({ ds, model, valueIndex }),
      principal: localPrincipal('local'),
      close: () => ds.knex.destroy(),
    }
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

async function runBatch(o: Opened, file: string, asOf: string | undefined): Promise<void> {
  const lines = (await readFile(file, 'utf8')).split('\n').filter((l) => l.trim())
  for (const line of lines) {
    let id: unknown = null
    let out: unknown
    try {
      const q = JSON.parse(line) as { id?: unknown; question?: unknown; asOf?: unknown }
      id = q.id ?? null
      if (typeof q.question !== 'string')
        throw new HubError('BAD_REQUEST', 'Each line needs a "question" string')
      const r = await o.engine.ask(o.principal, {
        question: q.question,
        ...(typeof q.asOf === 'string' ? { asOf: q.asOf } : asOf ? { asOf } : {}),
      })
      out = answerJson(id, r)
    } catch (err) {
      out = { id, ok: false, error: errorJson(err) }
    }
    process.stdout.write(`${JSON.stringify(out)}\n`)
  }
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
    .option('--db <url>', 'a data source URL (sqlite:<path> or mysql://…)')
    .option('--model <name|path>', 'model overrides for --db: a bundled name (pharma) or a YAML/JSON file')
    .option('--as-of <date>', 'reference date for relative periods (YYYY-MM-DD)')
    .option('--limit <n>', 'rows to return at most')
    .option('--json', 'JSON output')
    .option('--batch <file>', 'one {"id","question","asOf"?} per line; prints one JSON answer per line')
    .action(async (question: string | undefined, opts: AskOptions) => {
      const o = await open(opts)
      try {
        if (opts.batch) {
          await runBatch(o, opts.batch, opts.asOf)
          return
        }
        if (!question) throw new HubError('BAD_REQUEST', 'Ask a question, or pass --batch FILE')
        try {
          const r = await o.engine.ask(o.principal, {
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
