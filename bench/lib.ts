import { existsSync, readdirSync, readFileSync } from 'node:fs'
import knexFactory from 'knex'
import { openDataSource } from '../packages/core/src/db/index.ts'
import { seedPharma } from '../packages/core/src/demo/index.ts'

export const BENCH_MYSQL = process.env.NL2Q_BENCH_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306'

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[i] as number
}

export const fmt = (n: number, digits = 2) => n.toLocaleString('en-US', { maximumFractionDigits: digits })

export function row(label: string, value: string, baseline?: string, ratio?: number): void {
  const r = ratio === undefined ? '' : `  ratio ${fmt(ratio, 3)}×`
  process.stdout.write(
    `  ${label.padEnd(44)} ${value.padStart(16)}${baseline ? `  (baseline ${baseline})` : ''}${r}\n`,
  )
}

/**
 * A MariaDB database holding the pharma demo at `scale` (ACM, seed 7), seeded when missing.
 * Returns its URL. Scale 20 takes about a minute to load.
 */
export async function pharmaOnMysql(name: string, scale: number): Promise<string> {
  const admin = knexFactory({ client: 'mysql2', connection: `${BENCH_MYSQL}/` })
  try {
    await admin.raw(`CREATE DATABASE IF NOT EXISTS \`${name}\``)
    const [rows] = (await admin.raw(
      'SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?',
      [name, 'calls'],
    )) as [{ n: number }[]]
    const url = `${BENCH_MYSQL}/${name}`
    if (!rows[0]?.n) {
      process.stdout.write(`  (seeding ${name} at scale ${scale} …)\n`)
      const ds = openDataSource(url)
      try {
        await seedPharma(ds, { prefix: 'ACM', seed: 7, scale })
      } finally {
        await ds.knex.destroy()
      }
    }
    return url
  } finally {
    await admin.destroy()
  }
}

/** Run `total` tasks with at most `concurrency` in flight; returns wall time in ms. */
export async function pool(
  total: number,
  concurrency: number,
  task: (i: number) => Promise<void>,
): Promise<number> {
  let next = 0
  const started = performance.now()
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++
        await task(i)
      }
    }),
  )
  return performance.now() - started
}

/** utime + stime of `pid` and every descendant, ms (Linux only; NaN elsewhere). */
export function cpuMs(pid: number | undefined): number {
  if (pid === undefined || !existsSync('/proc/self/stat')) return Number.NaN
  const stats = readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .flatMap((d) => {
      try {
        // fields after the command (which may hold spaces): state ppid … utime(14) stime(15)
        const text = readFileSync(`/proc/${d}/stat`, 'utf8')
        const f = text.slice(text.lastIndexOf(')') + 2).split(' ')
        return [{ pid: Number(d), ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) }]
      } catch {
        return []
      }
    })
  const tree = new Set([pid])
  for (let grew = true; grew; ) {
    grew = false
    for (const s of stats)
      if (!tree.has(s.pid) && tree.has(s.ppid)) {
        tree.add(s.pid)
        grew = true
      }
  }
  // clock ticks are 1/100 s on Linux
  return stats.filter((s) => tree.has(s.pid)).reduce((sum, s) => sum + s.ticks * 10, 0)
}

/** Process ids whose command name is one of `names` (e.g. the local `mariadbd`, `redis-server`). */
export function pidsNamed(...names: string[]): number[] {
  if (!existsSync('/proc/self/comm')) return []
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        return names.includes(readFileSync(`/proc/${d}/comm`, 'utf8').trim())
      } catch {
        return false
      }
    })
    .map(Number)
}
