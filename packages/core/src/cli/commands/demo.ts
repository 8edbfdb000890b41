import { MultiBar, Presets, type SingleBar } from 'cli-progress'
import type { Command } from 'commander'
import { openDataSource, redactUrl } from '../../db/index.ts'
import {
  DEMO_TENANTS,
  type PharmaTable,
  type SeedOptions,
  type SeedResult,
  seedPharma,
} from '../../demo/index.ts'
import { HubError } from '../../errors.ts'

interface SeedFlags {
  tenant?: string
  db?: string
  prefix?: string
  scale: string
  seed?: string
  seedDate?: string
  replace?: boolean
}

interface Target {
  url: string
  baseDir?: string
  prefix: string
  seed: number
}

function parseNumber(value: string, what: string): number {
  const n = Number(value)
  if (value.trim() === '' || !Number.isFinite(n))
    throw new HubError('VALIDATION_FAILED', `--${what} must be a number`)
  return n
}

/** Where to seed and with which identity: a registered tenant (demo tenants keep their prefix and seed) or a URL. */
async function resolveTarget(flags: SeedFlags): Promise<Target> {
  if ((flags.tenant === undefined) === (flags.db === undefined))
    throw new HubError('VALIDATION_FAILED', 'Give exactly one of --tenant <id> or --db <url>')
  const seedFlag = flags.seed === undefined ? undefined : parseNumber(flags.seed, 'seed')
  if (flags.tenant !== undefined) {
    const demo = DEMO_TENANTS.find((t) => t.id === flags.tenant)
    const prefix = flags.prefix ?? demo?.prefix
    if (!prefix)
      throw new HubError('VALIDATION_FAILED', `Tenant ${flags.tenant} is not a demo tenant: give --prefix`)
    // Loaded lazily: `--db` seeding must not need the metadata store or its configuration.
    const { getTenantDbUrl } = await import('../../tenants/index.ts')
    const { loadConfig } = await import('../../config/index.ts')
    return {
      url: await getTenantDbUrl(flags.tenant),
      baseDir: loadConfig().home,
      prefix,
      seed: seedFlag ?? demo?.seed ?? 1,
    }
  }
  const prefix = flags.prefix ?? 'ACM'
  return {
    url: flags.db as string,
    prefix,
    seed: seedFlag ?? DEMO_TENANTS.find((t) => t.prefix === prefix)?.seed ?? 1,
  }
}

/** A bar per table on a terminal; nothing (the summary line only) when stdout is not a TTY. */
function progressBars(): { onProgress: SeedOptions['onProgress']; stop(): void } {
  if (!process.stdout.isTTY) return { onProgress: undefined, stop() {} }
  const multi = new MultiBar(
    {
      format: '{table} [{bar}] {percentage}% | {value}/{total} rows',
      hideCursor: true,
      clearOnComplete: false,
    },
    Presets.shades_classic,
  )
  const bars = new Map<PharmaTable, SingleBar>()
  return {
    onProgress(done, total, table) {
      let bar = bars.get(table)
      if (!bar) {
        bar = multi.create(total, 0, { table: table.padEnd(13) })
        bars.set(table, bar)
      }
      bar.setTotal(total)
      bar.update(done)
    },
    stop: () => multi.stop(),
  }
}

const summary = (t: Target, scale: number, r: SeedResult): string =>
  `seeded pharma demo (prefix ${t.prefix}, seed ${t.seed}, scale ${scale}) into ${t.url.startsWith('sqlite:') ? t.url : redactUrl(t.url)} in ${(r.ms / 1000).toFixed(1)} s: ${Object.entries(
    r.counts,
  )
    .map(([table, n]) => `${table} ${n}`)
    .join(', ')}; weeks end ${r.lastWeekEnding}\n`

export function register(program: Command): void {
  const demo = program.command('demo').description('The pharma demo dataset')
  demo
    .command('seed')
    .description('Generate the pharma demo into a tenant database or a data-source URL')
    .option('--tenant <id>', 'a registered tenant (acme and globex keep their demo prefix and seed)')
    .option(
      '--db <url>',
      'sqlite:<path>, mysql://user:pass@host:3306/db or postgres://user:pass@host:5432/db',
    )
    .option('--prefix <prefix>', 'identifier prefix, e.g. ACM (default: the demo tenant’s, or ACM)')
    .option('--scale <n>', 'multiplies hcps, prescriptions and calls (fractions allowed, e.g. 0.05)', '1')
    .option('--seed <n>', 'random seed (default: the demo tenant’s)')
    .option(
      '--seed-date <YYYY-MM-DD>',
      'the data ends at the last complete week before this date (default: today)',
    )
    .option('--replace', 'drop and recreate existing pharma tables (otherwise they are never touched)')
    .action(async (flags: SeedFlags) => {
      const target = await resolveTarget(flags)
      const scale = parseNumber(flags.scale, 'scale')
      const ds = openDataSource(target.url, target.baseDir === undefined ? {} : { baseDir: target.baseDir })
      const abort = new AbortController()
      const onSigint = (): void => abort.abort()
      process.once('SIGINT', onSigint)
      const bars = progressBars()
      try {
        const result = await seedPharma(ds, {
          prefix: target.prefix,
          seed: target.seed,
          scale,
          replace: flags.replace === true,
          ...(flags.seedDate ? { seedDate: flags.seedDate } : {}),
          onProgress: bars.onProgress,
          signal: abort.signal,
        })
        bars.stop()
        process.stdout.write(summary(target, scale, result))
      } catch (err) {
        bars.stop()
        if (abort.signal.aborted) {
          process.stderr.write(
            `hub: seeding cancelled (${ds.dialect === 'mysql' ? 'the half-loaded pharma tables were dropped' : 'nothing was changed'})\n`,
          )
          process.exitCode = 130
          return
        }
        throw err
      } finally {
        process.off('SIGINT', onSigint)
        await ds.knex.destroy()
      }
    })
}
