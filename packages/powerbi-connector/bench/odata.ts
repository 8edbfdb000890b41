import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createHubApp, loadConfig } from '@nl2q/core'

/**
 * OData full-read benchmark: every row of `prescriptions` in a MariaDB tenant (the demo generator's
 * scale-20 database, `nl2q_bench_s20`, ~6.2 M rows) read through the feed the way OData.Feed does —
 * first page, then every @odata.nextLink — from a hub running as its own process on loopback,
 * against `mysql --batch` reading the same rows in the same run — before the feed's reads and again
 * after them, the ratio taken against the two runs' mean rate, since other work on the machine moves
 * both. Reports rows/s for both, the ratio (target ≥ 0.6; with a client that counts rows as `wc -l` does for the baseline, and also
 * with a client that JSON.parses every page) and the hub's peak RSS (VmHWM; target < 256 MB).
 *
 * Environment: NL2Q_BENCH_DB (default mysql://root@127.0.0.1:3306/nl2q_bench_s20),
 * NL2Q_BENCH_PAGE_SIZE (default: the feed's own, 10000 clamped below HUB_MAX_ROWS), NL2Q_BENCH_MAX_ROWS (stop early, default all),
 * NL2Q_BENCH_NODE_ARGS (extra node flags for the hub process, e.g. `--cpu-prof`),
 * NL2Q_BENCH_FIRST_START=1 (the hub also generates the demo tenant globex, as on a first start).
 */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const COLUMNS = 'rx_id, hcp_id, product_id, week_ending, payer_type, trx, nrx, quantity'

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.listen(0, '127.0.0.1', () => {
      const a = s.address()
      const port = typeof a === 'object' && a ? a.port : 0
      s.close(() => resolve(port))
    })
    s.on('error', reject)
  })
}

function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0)
  return kb / 1024
}

/** CPU seconds (user + system) a process has used so far, or null when it cannot be read. */
function cpuSeconds(pid: number | null): number | null {
  if (!pid) return null
  try {
    // Fields after the command name: state is the 1st, utime the 12th and stime the 13th.
    const fields = (readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1] ?? '').split(' ')
    return (Number(fields[11]) + Number(fields[12])) / 100
  } catch {
    return null
  }
}

function mariadbPid(): number | null {
  const out = spawnSync('pidof', ['mariadbd', 'mysqld'], { encoding: 'utf8' })
  const pid = Number(out.stdout?.trim().split(/\s+/)[0])
  return Number.isInteger(pid) && pid > 0 ? pid : null
}

function mysqlBatch(url: URL, maxRows: number | null): { rows: number; seconds: number } {
  const db = url.pathname.slice(1)
  const limit = maxRows ? ` LIMIT ${maxRows}` : ''
  const started = performance.now()
  const out = spawnSync(
    'bash',
    [
      '-c',
      `mysql --batch --skip-column-names -h${url.hostname} -P${url.port || 3306} -u${decodeURIComponent(url.username || 'root')} ${db} -e "SELECT ${COLUMNS} FROM prescriptions ORDER BY rx_id${limit}" | wc -l`,
    ],
    { encoding: 'utf8', env: { ...process.env, MYSQL_PWD: decodeURIComponent(url.password) } },
  )
  if (out.status !== 0) throw new Error(`mysql --batch failed: ${out.stderr}`)
  return { rows: Number(out.stdout.trim()), seconds: (performance.now() - started) / 1000 }
}

interface FullRead {
  rows: number
  pages: number
  bytes: number
  seconds: number
}

/** Follow every nextLink from `start`; `consume` gets each body and returns its row count and nextLink. */
async function readAll(
  start: string,
  headers: Record<string, string>,
  target: number,
  consume: (body: Buffer) => { n: number; next: string | undefined },
): Promise<FullRead> {
  const read: FullRead = { rows: 0, pages: 0, bytes: 0, seconds: 0 }
  const started = performance.now()
  let next: string | undefined = start
  while (next && read.rows < target) {
    const res = await fetch(next, { headers })
    if (!res.ok) throw new Error(`page ${read.pages}: ${res.status} ${await res.text()}`)
    const body = Buffer.from(await res.arrayBuffer())
    const page = consume(body)
    read.bytes += body.length
    read.rows += page.n
    read.pages++
    next = page.next
  }
  read.seconds = (performance.now() - started) / 1000
  return read
}

/** `dbUrl`: a MariaDB database holding the pharma demo (the root runner seeds scale 20 when missing). */
export async function run(
  dbUrl = process.env.NL2Q_BENCH_DB ?? 'mysql://root@127.0.0.1:3306/nl2q_bench_s20',
): Promise<void> {
  const pageSize = Number(process.env.NL2Q_BENCH_PAGE_SIZE ?? 10_000)
  const maxRows = process.env.NL2Q_BENCH_MAX_ROWS ? Number(process.env.NL2Q_BENCH_MAX_ROWS) : null
  const firstStart = process.env.NL2Q_BENCH_FIRST_START === '1'
  const home = mkdtempSync(join(tmpdir(), 'nl2q-bench-odata-'))
  const env = { ...process.env, HUB_HOME: home, HUB_LOG_LEVEL: 'warn', HUB_DATABASE_URL: undefined }
  try {
    // Register the benchmark database as tenant acme before the demo bootstrap (which then only
    // issues acme's admin key and leaves the data alone).
    const setup = await createHubApp(loadConfig({ ...env, HUB_DEMO: '0' }), { noConnectors: true })
    try {
      await setup.services.tenants.add({ id: 'acme', dbUrl, model: 'pharma' })
    } finally {
      await setup.close()
    }
    // The hub below is a restart, as in service: the one-off generation of the other demo tenant
    // (globex, a SQLite file) happens here, not in the measured process, unless
    // NL2Q_BENCH_FIRST_START=1 asks for the first-start peak.
    if (!firstStart) {
      const demo = await createHubApp(loadConfig({ ...env, HUB_DEMO: '1' }), { noConnectors: true })
      await demo.close()
    }

    const port = await freePort()
    // the compiled hub (`pnpm bench` builds it) runs in this very child process: its pid is the hub's.
    const nodeArgs = (process.env.NL2Q_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean)
    const child = spawn(process.execPath, [...nodeArgs, 'packages/core/dist/cli/main.js', 'start'], {
      cwd: ROOT,
      env: {
        ...env,
        HUB_DEMO: '1',
        PORT: String(port),
        HOST: '127.0.0.1',
        HUB_RATE_LIMIT: '1000000',
        HUB_REQUEST_TIMEOUT_MS: '120000',
        HUB_ODATA_PAGE_SIZE: String(pageSize),
        HUB_MAX_ROWS: String(Math.max(10_000, pageSize)),
      },
      // NL2Q_BENCH_HUB_STDOUT=file keeps the hub's standard output (e.g. with `--trace-gc`).
      stdio: [
        'ignore',
        process.env.NL2Q_BENCH_HUB_STDOUT ? openSync(process.env.NL2Q_BENCH_HUB_STDOUT, 'w') : 'ignore',
        'inherit',
      ],
    })
    const base = `http://127.0.0.1:${port}`
    try {
      const deadline = Date.now() + 120_000
      for (;;) {
        const ok = await fetch(`${base}/health/live`)
          .then((r) => r.ok)
          .catch(() => false)
        if (ok) break
        if (Date.now() > deadline) throw new Error('the hub did not start')
        await new Promise((r) => setTimeout(r, 300))
      }
      // `node packages/core/dist/cli/main.js` runs the hub in the spawned process itself.
      const hubPid = child.pid as number
      const key = readFileSync(join(home, 'acme.key'), 'utf8').trim()
      const headers = {
        authorization: `Bearer ${key}`,
        accept: 'application/json;odata.metadata=minimal',
        'odata-maxversion': '4.0',
        'user-agent': 'Microsoft.Data.Mashup (https://go.microsoft.com/fwlink/?LinkID=304225)',
      }
      process.stderr.write(`hub up (pid ${hubPid}); counting…\n`)
      const total = Number(await (await fetch(`${base}/odata/prescriptions/$count`, { headers })).text())
      process.stderr.write(`${total} rows; mysql --batch…\n`)
      const target = maxRows ? Math.min(total, maxRows) : total

      const batch = mysqlBatch(new URL(dbUrl), maxRows)
      // The tenant is open (model, value index) before the read: its peak so far is the baseline.
      const rssBeforeRead = peakRssMb(hubPid)

      const first = COLUMNS.split(',')[0]?.trim() as string
      const start = `${base}/odata/prescriptions?$select=${COLUMNS.replaceAll(' ', '')}`
      // Two readers of the whole set, one after the other. `count` does what `wc -l` does for the
      // baseline (scans the bytes: one `{"rx_id":` per row — inside a JSON string the quotes would
      // be escaped — and the nextLink at the end), so the ratio compares the hub with the mysql
      // client for the same consumer work; `parse` JSON.parses every page as an OData client does,
      // on the same two cores as the hub and the database.
      // Where the time goes during the counting read: CPU seconds of the hub, the database and this
      // client, against the wall time (two cores on the reference machine).
      const dbPid = mariadbPid()
      const cpuBefore = [cpuSeconds(hubPid), cpuSeconds(dbPid), cpuSeconds(process.pid)]
      const marker = Buffer.from(`{"${first}":`)
      const count = await readAll(start, headers, target, (body) => {
        let n = 0
        for (let at = body.indexOf(marker); at !== -1; at = body.indexOf(marker, at + marker.length)) n++
        const link = body.lastIndexOf('"@odata.nextLink":')
        const next =
          link === -1
            ? undefined
            : (JSON.parse(body.subarray(link + 18, body.length - 1).toString()) as string)
        return { n, next }
      })
      const cpuAfter = [cpuSeconds(hubPid), cpuSeconds(dbPid), cpuSeconds(process.pid)]
      const used = (i: number) => {
        const a = cpuAfter[i]
        const b = cpuBefore[i]
        return a == null || b == null ? null : Math.round((a - b) * 10) / 10
      }
      const hubCpuPerRowUs = (() => {
        const s = used(0)
        return s == null ? null : Math.round(((s * 1e6) / count.rows) * 100) / 100
      })()
      const parse = await readAll(start, headers, target, (body) => {
        const page = JSON.parse(body.toString()) as { value: unknown[]; '@odata.nextLink'?: string }
        return { n: page.value.length, next: page['@odata.nextLink'] }
      })
      for (const r of [count, parse])
        if (maxRows ? r.rows < target : r.rows !== target)
          throw new Error(`read ${r.rows} rows through the feed, expected ${target}`)
      const rss = peakRssMb(hubPid)
      process.stderr.write('mysql --batch again…\n')
      const again = mysqlBatch(new URL(dbUrl), maxRows)
      const batchRate = (batch.rows / batch.seconds + again.rows / again.seconds) / 2
      const figures = (r: FullRead) => ({
        seconds: Math.round(r.seconds * 10) / 10,
        rowsPerSec: Math.round(r.rows / r.seconds),
        ratio: Math.round((r.rows / r.seconds / batchRate) * 100) / 100,
      })
      console.log(
        JSON.stringify(
          {
            bench: 'odata-full-read',
            database: new URL(dbUrl).pathname.slice(1),
            rows: count.rows,
            pages: count.pages,
            pageSize,
            mbytes: Math.round(count.bytes / 1e5) / 10,
            odataCountingClient: figures(count),
            odataParsingClient: figures(parse),
            cpuSecondsDuringCountingRead: { hub: used(0), mariadb: used(1), client: used(2) },
            hubCpuMicrosecondsPerRow: hubCpuPerRowUs,
            mysqlBatch: {
              rows: batch.rows,
              secondsBefore: Math.round(batch.seconds * 10) / 10,
              secondsAfter: Math.round(again.seconds * 10) / 10,
              rowsPerSec: Math.round(batchRate),
            },
            ratio: figures(count).ratio,
            ratioTarget: 0.6,
            hubPeakRssMb: Math.round(rss),
            hubPeakRssBeforeReadMb: Math.round(rssBeforeRead),
            hubStart: firstStart ? 'first (generates demo data)' : 'restart (demo data generated in setup)',
            rssTargetMb: 256,
          },
          null,
          2,
        ),
      )
    } finally {
      const exited = new Promise((r) => child.once('exit', r))
      child.kill('SIGTERM')
      const force = setTimeout(() => child.kill('SIGKILL'), 15_000)
      await exited
      clearTimeout(force)
    }
  } finally {
    rmSync(home, { recursive: true, force: true })
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await run()
