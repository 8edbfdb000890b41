/** seedPharma: generate the pharma demo for one tenant and bulk-load it into a data source. */

import type { DataSource } from '../db/knex.ts'
import { HubError, isHubError } from '../errors.ts'
import { CANONICAL_LAST_WEEK, shiftDaysFor, shiftIso } from './calendar.ts'
import {
  type GeneratorOptions,
  generateDimensions,
  hcpCount,
  hcpRow,
  productRow,
  type Row,
  repRow,
  territoryRow,
} from './dimensions.ts'
import { callChunks, callCount, prescriptionChunks } from './facts.ts'
import { assertPrefix } from './ids.ts'
import { openMysqlLoader } from './load-mysql.ts'
import { openPostgresLoader } from './load-postgres.ts'
import { openSqliteLoader } from './load-sqlite.ts'
import type { BulkLoader } from './loader.ts'
import { conflictError, tableDef } from './schema.ts'

export type PharmaTable = 'territories' | 'reps' | 'hcps' | 'products' | 'prescriptions' | 'calls'

export interface SeedOptions {
  /** Identifier prefix of the tenant, e.g. `ACM`: 2–6 upper-case letters or digits. */
  prefix: string
  /** Same prefix + seed + scale ⇒ identical rows, on every dialect. */
  seed: number
  /**
   * Multiplies hcps (2,000), prescriptions (~300,000) and calls (40,000); territories, reps and
   * products stay. Fractional scales (down to 0.005) make small databases for tests. Default 1.
   */
  scale?: number
  /** Drop and recreate existing pharma tables. Without it, a database that has any of them is refused. */
  replace?: boolean
  /**
   * Rows of `table` loaded so far out of its expected total. For prescriptions the total is an
   * estimate (extrapolated from the HCPs done) that becomes exact on the table's last call.
   */
  onProgress?: (done: number, total: number, table: PharmaTable) => void
  signal?: AbortSignal
  /**
   * 'YYYY-MM-DD': the data's calendar ends at the last complete week (a Saturday) before it, so
   * relative periods ("last quarter") asked on that day have data. Default: the environment's
   * NL2Q_DEMO_SEED_DATE, else today (UTC). Two years of weeks are generated.
   */
  seedDate?: string
}

export interface SeedResult {
  counts: Record<PharmaTable, number>
  ms: number
  /** The last week ending of the prescriptions (the calendar's end). */
  lastWeekEnding: string
}

/** The seed date an option, the environment or today gives, validated. */
export function demoSeedDate(option?: string): string {
  const d = option ?? process.env.NL2Q_DEMO_SEED_DATE ?? new Date().toISOString().slice(0, 10)
  if (!/^\d{4}-\d{2}-\d{2}$/.test(d) || Number.isNaN(Date.parse(`${d}T00:00:00Z`)) || d < '2000-01-01')
    throw new HubError('VALIDATION_FAILED', 'The demo seed date must be a date YYYY-MM-DD from 2000 on')
  return d
}

/** Rows with the date column at `col` moved by `days`; with `before`, only rows dated before it. */
function* shifted(chunks: Iterable<Row[]>, col: number, days: number, before?: string): Generator<Row[]> {
  for (const rows of chunks) {
    if (days) for (const r of rows) r[col] = shiftIso(r[col] as string, days)
    yield before ? rows.filter((r) => (r[col] as string) < before) : rows
  }
}

export const MIN_SCALE = 0.005
export const MAX_SCALE = 100

function validate(options: SeedOptions): GeneratorOptions & { shift: number; seedDate: string } {
  assertPrefix(options.prefix)
  const scale = options.scale ?? 1
  if (!Number.isFinite(scale) || scale < MIN_SCALE || scale > MAX_SCALE)
    throw new HubError('VALIDATION_FAILED', `The demo scale must be between ${MIN_SCALE} and ${MAX_SCALE}`)
  if (!Number.isSafeInteger(options.seed) || options.seed < 0)
    throw new HubError('VALIDATION_FAILED', 'The demo seed must be a non-negative integer')
  const seedDate = demoSeedDate(options.seedDate)
  return { prefix: options.prefix, seed: options.seed, scale, shift: shiftDaysFor(seedDate), seedDate }
}

interface Step {
  table: PharmaTable
  chunks: Iterable<Row[]>
  /** Expected rows, given rows and chunks loaded so far. */
  expected(rows: number, chunks: number): number
}

function plan(gen: GeneratorOptions & { shift: number; seedDate: string }): Step[] {
  const d = generateDimensions(gen)
  const fixed = (table: PharmaTable, rows: Row[]): Step => ({
    table,
    chunks: [rows],
    expected: () => rows.length,
  })
  const hcps = hcpCount(gen.scale)
  const rxGuess = Math.round(300_000 * gen.scale)
  return [
    fixed('territories', d.territories.map(territoryRow)),
    fixed(
      'reps',
      // hire dates move with the calendar: no call falls before its rep joined
      d.reps.map((r) => repRow({ ...r, hireDate: shiftIso(r.hireDate, gen.shift) }, d)),
    ),
    fixed(
      'hcps',
      d.hcps.map((h) => hcpRow(h, d)),
    ),
    fixed('products', d.products.map(productRow)),
    {
      table: 'prescriptions',
      chunks: shifted(prescriptionChunks(d, gen), 3, gen.shift),
      expected: (rows, chunks) =>
        chunks === hcps ? rows : chunks > 0 ? Math.round((rows * hcps) / chunks) : rxGuess,
    },
    {
      table: 'calls',
      // calls run to the Tuesday after the last week ending: none on or after the seed date
      chunks: shifted(callChunks(d, gen), 4, gen.shift, gen.seedDate),
      expected: () => callCount(gen.scale),
    },
  ]
}

const openLoader = (ds: DataSource): Promise<BulkLoader> =>
  ds.dialect === 'sqlite'
    ? openSqliteLoader(ds)
    : ds.dialect === 'postgresql'
      ? openPostgresLoader(ds)
      : openMysqlLoader(ds)

function failure(err: unknown): unknown {
  if (isHubError(err) || (err instanceof Error && err.name === 'AbortError')) return err
  const code = (err as { code?: unknown })?.code
  return new HubError(
    'INTERNAL',
    `Loading the pharma demo data failed${typeof code === 'string' ? ` (${code})` : ''}`,
    {
      cause: err,
    },
  )
}

/**
 * Generate the pharma demo (test/fixtures/datasets/pharma.md) and load it into `target`, with keys,
 * foreign keys and indexes. Refuses (CONFLICT) if any pharma table exists, unless `replace`.
 */
export async function seedPharma(target: DataSource, options: SeedOptions): Promise<SeedResult> {
  const gen = validate(options)
  const started = performance.now()
  options.signal?.throwIfAborted()
  const loader = await openLoader(target)
  const counts = { territories: 0, reps: 0, hcps: 0, products: 0, prescriptions: 0, calls: 0 }
  try {
    const existing = await loader.existing()
    if (existing.length > 0 && !options.replace) throw conflictError(existing)
    try {
      await loader.begin(existing.length > 0)
      for (const step of plan(gen)) {
        options.signal?.throwIfAborted()
        const report = (rows: number, chunks: number): void =>
          options.onProgress?.(rows, Math.max(rows, step.expected(rows, chunks)), step.table)
        counts[step.table] = await loader.load(tableDef(step.table), step.chunks, report, options.signal)
      }
      options.signal?.throwIfAborted()
      await loader.finish()
    } catch (err) {
      await loader.abort().catch(() => {})
      throw err
    }
  } catch (err) {
    throw failure(err)
  } finally {
    await loader.release()
  }
  return {
    counts,
    ms: Math.round(performance.now() - started),
    lastWeekEnding: shiftIso(CANONICAL_LAST_WEEK, gen.shift),
  }
}
