/**
 * `pnpm bench [name …]` — every figure is printed beside a baseline measured in the same run
 * (the raw driver, `mysql --batch`, a bare handler), as a ratio. Benchmarks need MariaDB on
 * 127.0.0.1:3306 (NL2Q_BENCH_MYSQL_URL) and seed their databases when missing; `scale` also
 * needs Redis on 127.0.0.1:6379 (NL2Q_BENCH_REDIS_URL); `widget` needs Debian's chromium
 * (NL2Q_CHROMIUM) and runs on the SQLite demo.
 */
const ALL = [
  'engine',
  'audit',
  'startup',
  'ask',
  'throughput',
  'odata',
  'scale',
  'widget',
  'crm',
  'boast',
] as const

async function main() {
  const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'))
  const names = wanted.length ? wanted : [...ALL]
  for (const name of names) {
    if (!(ALL as readonly string[]).includes(name)) {
      process.stderr.write(`unknown benchmark '${name}'; choose from ${ALL.join(', ')}\n`)
      process.exitCode = 2
      return
    }
    process.stdout.write(`\n## ${name}\n`)
    const mod = (await import(`./${name}.ts`)) as { run(): Promise<void> }
    await mod.run()
  }
}

await main()
