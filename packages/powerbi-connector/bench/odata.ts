import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createHubApp, loadConfig } from '@nl2q/core'

/**
 * OData full-read benchmark: every row of `prescriptions` in a MariaDB tenant (the demo generator's
 * scale-20 database, `nl2q_bench_s20`, ~6.2 M rows) read through the feed the way OData.Feed does —
 * first page, then every @odata.nextLink — from a hub running as its own process on loopback,
 * against `mysql --batch` reading the same rows in the same run. Reports rows/s for both, the
 * ratio (target ≥ 0.5) and the hub's peak RSS (VmHWM; target < 256 MB).
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

export async function run(): Promise<void> {
  const dbUrl = process.env.NL2Q_BENCH_DB ?? 'mysql://root@127.0.0.1:3306/nl2q_bench_s20'
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
    // node --import tsx runs the hub in this very child process, so its pid is the hub's.
    const nodeArgs = (process.env.NL2Q_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean)
    const child = spawn(
      process.execPath,
      [...nodeArgs, '--import', 'tsx', 'packages/core/src/cli/main.ts', 'start'],
      {
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
        stdio: ['ignore', 'ignore', 'inherit'],
      },
    )
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
      // `node --import tsx` runs the hub in the spawned process itself; its children (esbuild's
      // service) are not the hub, so measure this pid.
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

      let rows = 0
      let pages = 0
      let bytes = 0
      let next: string | undefined = `${base}/odata/prescriptions?$select=${COLUMNS.replaceAll(' ', '')}`
      const started = performance.now()
      while (next && rows < target) {
        const res = await fetch(next, { headers })
        if (!res.ok) throw new Error(`page ${pages}: ${res.status} ${await res.text()}`)
        const text = await res.text()
        bytes += text.length
        const body = JSON.parse(text) as { value: unknown[]; '@odata.nextLink'?: string }
        rows += body.value.length
        next = body['@odata.nextLink']
        pages++
      }
      const seconds = (performance.now() - started) / 1000
      const rss = peakRssMb(hubPid)
      const odataRate = rows / seconds
      const batchRate = batch.rows / batch.seconds
      console.log(
        JSON.stringify(
          {
            bench: 'odata-full-read',
            database: new URL(dbUrl).pathname.slice(1),
            rows,
            pages,
            pageSize,
            mbytes: Math.round(bytes / 1e5) / 10,
            odata: { seconds: Math.round(seconds * 10) / 10, rowsPerSec: Math.round(odataRate) },
            mysqlBatch: {
              rows: batch.rows,
              seconds: Math.round(batch.seconds * 10) / 10,
              rowsPerSec: Math.round(batchRate),
            },
            ratio: Math.round((odataRate / batchRate) * 100) / 100,
            ratioTarget: 0.5,
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
