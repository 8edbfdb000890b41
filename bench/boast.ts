import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startSshd } from '../test/emulators/sshd/sshd.ts'
import { fmt, pharmaOnMysql, row } from './lib.ts'

/**
 * BOAST export benchmark: every prescription of a MariaDB pharma tenant exported by the hub CLI
 * (`hub boast export --plan … --now`: engine pages → csv-stringify → gzip → SFTP, manifest last) to a
 * local OpenSSH server, against the baseline measured in the same run: `mysql --batch … | gzip`
 * into a file, then OpenSSH's `sftp` client uploading it. Reports rows/s of both, the ratio
 * (target ≥ 0.5) and the hub process's peak RSS (target < 256 MB).
 *
 * NL2Q_BENCH_BOAST_SCALE (default 2, ~0.6 M rows, for a quick run; 20 is the issue's ~6 M rows),
 * NL2Q_BENCH_BOAST_PAGE_ROWS (the connector's batch size; default its own), NL2Q_BENCH_BOAST_NODE_ARGS (flags for the hub process,
 * e.g. `--max-old-space-size=128` to see the memory the export needs rather than V8's lazy heap,
 * or `--trace-gc`), NL2Q_BENCH_BOAST_LOG (a file for the export process's stdout and stderr).
 */
const COLUMNS = ['rx_id', 'hcp_id', 'product_id', 'week_ending', 'payer_type', 'trx', 'nrx', 'quantity']
const ROOT = join(import.meta.dirname, '..')
const CLI = join(ROOT, 'packages/core/dist/cli/main.js')

function hub(args: string[], env: NodeJS.ProcessEnv): string {
  const r = spawnSync(process.execPath, [CLI, ...args], { env, encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`hub ${args.join(' ')}: ${r.stderr || r.stdout}`)
  return r.stdout
}

/** Run the export as its own process, sampling its peak RSS (VmHWM) until it exits. */
function timedExport(args: string[], env: NodeJS.ProcessEnv) {
  return new Promise<{ seconds: number; peakMb: number; cpuSeconds: number; stdout: string }>(
    (resolve, reject) => {
      const started = performance.now()
      const nodeArgs = (process.env.NL2Q_BENCH_BOAST_NODE_ARGS ?? '').split(' ').filter(Boolean)
      const child = spawn(process.execPath, [...nodeArgs, CLI, ...args], {
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      let stdout = ''
      let stderr = ''
      let peakMb = 0
      let cpuSeconds = 0
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString()
      })
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString()
      })
      const sample = setInterval(() => {
        try {
          const kb = Number(
            /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0,
          )
          peakMb = Math.max(peakMb, kb / 1024)
          // utime + stime (fields 14 and 15 of /proc/<pid>/stat, in clock ticks of 1/100 s)
          const stat = readFileSync(`/proc/${child.pid}/stat`, 'utf8')
          const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
          cpuSeconds = (Number(fields[11]) + Number(fields[12])) / 100
        } catch {
          // exited between samples
        }
      }, 50)
      child.on('error', reject)
      child.on('exit', (code) => {
        clearInterval(sample)
        if (process.env.NL2Q_BENCH_BOAST_LOG) writeFileSync(process.env.NL2Q_BENCH_BOAST_LOG, stdout + stderr)
        if (code !== 0) reject(new Error(`export failed (${code}): ${stderr || stdout}`))
        else resolve({ seconds: (performance.now() - started) / 1000, peakMb, cpuSeconds, stdout })
      })
    },
  )
}

export async function run(): Promise<void> {
  const scale = Number(process.env.NL2Q_BENCH_BOAST_SCALE ?? 2)
  const pageRows = process.env.NL2Q_BENCH_BOAST_PAGE_ROWS
  const url = new URL(await pharmaOnMysql(`nl2q_bench_s${scale}`, scale))
  const sshd = await startSshd()
  const home = mkdtempSync(join(tmpdir(), 'nl2q-bench-boast-'))
  try {
    const keyFile = join(home, 'client_key')
    writeFileSync(keyFile, sshd.clientKey, { mode: 0o600 })
    const env = {
      ...process.env,
      HUB_HOME: home,
      HUB_DEMO: '0',
      HUB_LOG_LEVEL: 'warn',
      HUB_MAX_ROWS: '100000',
      ...(pageRows ? { HUB_BOAST_PAGE_ROWS: pageRows } : {}),
    }
    hub(['tenant', 'add', 'bench', '--db', url.href], env)
    hub(
      ['connector', 'config', 'boast', '--tenant', 'bench', `sftp_host_key_sha256=${sshd.hostKeySha256}`],
      env,
    )
    hub(['connector', 'secret', 'set', 'boast', '--tenant', 'bench', `sftp_private_key=@${keyFile}`], env)

    // baseline: mysql --batch | gzip > file, then OpenSSH's sftp puts it
    const db = url.pathname.slice(1)
    const gz = join(home, 'baseline.tsv.gz')
    const batch = join(home, 'sftp.batch')
    writeFileSync(batch, `put ${gz} /out/baseline.tsv.gz\n`)
    const known = join(home, 'known_hosts')
    const hostPub = spawnSync('ssh-keyscan', ['-t', 'ed25519', '-p', String(sshd.port), '127.0.0.1'], {
      encoding: 'utf8',
    })
    writeFileSync(known, hostPub.stdout)
    const b0 = performance.now()
    const dump = spawnSync(
      'bash',
      [
        '-c',
        `set -o pipefail; mysql --batch -h${url.hostname} -P${url.port || 3306} -u${decodeURIComponent(url.username || 'root')} ${db} -e "SELECT ${COLUMNS.join(', ')} FROM prescriptions ORDER BY rx_id" | gzip -6 > ${gz}; times`,
      ],
      { encoding: 'utf8', env: { ...process.env, MYSQL_PWD: decodeURIComponent(url.password) } },
    )
    if (dump.status !== 0) throw new Error(`mysql | gzip failed: ${dump.stderr}`)
    // bash's `times`: the children's user and system time (mysql and gzip), on its second line
    const childTimes = [...(dump.stdout.trim().split('\n').at(-1) ?? '').matchAll(/(\d+)m([\d.]+)s/g)]
    const baseCpu = childTimes.reduce((sum, m) => sum + Number(m[1]) * 60 + Number(m[2]), 0)
    const put = spawnSync(
      'sftp',
      [
        '-q',
        '-b',
        batch,
        '-i',
        keyFile,
        '-P',
        String(sshd.port),
        '-o',
        `UserKnownHostsFile=${known}`,
        `${sshd.user}@127.0.0.1`,
      ],
      { encoding: 'utf8' },
    )
    if (put.status !== 0) throw new Error(`sftp failed: ${put.stderr}`)
    const baseSeconds = (performance.now() - b0) / 1000
    const rows =
      Number(spawnSync('bash', ['-c', `gzip -dc ${gz} | wc -l`], { encoding: 'utf8' }).stdout.trim()) - 1

    const plan = JSON.stringify({
      dataset: 'prescriptions',
      select: COLUMNS.map((f) => ({ field: `prescriptions.${f}`, as: f })),
      order: [{ by: 'rx_id', direction: 'asc' }],
    })
    const out = await timedExport(
      [
        'boast',
        'export',
        '--tenant',
        'bench',
        '--export',
        'rx',
        '--plan',
        plan,
        '--to',
        sshd.url('out'),
        '--now',
      ],
      env,
    )
    // the result is the last JSON object printed (node flags such as --trace-gc print before it)
    const result = JSON.parse(out.stdout.slice(out.stdout.lastIndexOf('\n{') + 1)) as {
      rowCount: number
      bytes: number
      file: string
      status: string
    }
    if (result.status !== 'succeeded' || result.rowCount !== rows)
      throw new Error(`export delivered ${result.rowCount} rows, mysql ${rows}: ${out.stdout}`)
    const hubRate = rows / out.seconds
    const baseRate = rows / baseSeconds
    row(`rows (scale ${scale})`, fmt(rows, 0))
    row(
      'export rows/s (CLI start to manifest)',
      fmt(hubRate, 0),
      `${fmt(baseRate, 0)} mysql|gzip + sftp`,
      hubRate / baseRate,
    )
    row('export seconds', fmt(out.seconds, 1), `${fmt(baseSeconds, 1)} s`)
    row('gzip bytes', fmt(result.bytes, 0), `${fmt(statSync(gz).size, 0)} (tsv)`)
    row('hub peak RSS MB (target < 256)', fmt(out.peakMb, 0))
    // CPU seconds are what a loaded machine disturbs least (the database's own CPU is in neither)
    row(
      'CPU seconds (hub process; mysql + gzip)',
      fmt(out.cpuSeconds, 1),
      `${fmt(baseCpu, 1)} s`,
      baseCpu / out.cpuSeconds,
    )
  } finally {
    await sshd.stop()
    rmSync(home, { recursive: true, force: true })
  }
}
