import cluster from 'node:cluster'
import type { Command } from 'commander'
import { loadConfig } from '../../config/index.ts'
import type { DemoKey } from '../../service/bootstrap-demo.ts'

/** What `hub start` prints once it listens: the URL, the demo keys and a first question. */
function banner(url: string, demoKeys: DemoKey[], workers: number): string {
  const lines = [
    `NL2Q Hub listening on ${url}  (API docs: ${url}/docs)${workers > 1 ? `  [${workers} workers]` : ''}`,
  ]
  // A key is printed once, on the start that issues it; later starts name only its file.
  for (const k of demoKeys) {
    lines.push(
      k.created
        ? `  demo tenant ${k.tenant}: admin API key ${k.secret}  (saved in ${k.keyFile})`
        : `  demo tenant ${k.tenant}: admin API key in ${k.keyFile}`,
    )
  }
  if (demoKeys[0]) {
    lines.push(
      `  try: curl -s -H "Authorization: Bearer $(cat ${demoKeys[0].keyFile})" -H 'content-type: application/json' \\`,
      `         -d '{"question":"Total TRx for Tirosint in Q4 2024"}' ${url}/v1/ask`,
    )
  }
  return `${lines.join('\n')}\n`
}

export function register(program: Command): void {
  program
    .command('start')
    .description('Start the hub (embedded demo tenants unless HUB_DEMO=0)')
    .option('-p, --port <port>', 'port to listen on (default: $PORT or 8080)')
    .option(
      '-w, --workers <n>',
      'processes sharing the port (node:cluster, default $HUB_WORKERS or 1); see docs/architecture.md, Throughput',
    )
    .action(async (opts: { port?: string; workers?: string }) => {
      const env = { ...process.env, ...(opts.port ? { PORT: opts.port } : {}) }
      const config = loadConfig(env)
      // imported here, not above: `hub --help` should not load the HTTP service
      const { startHub, createHubApp } = await import('../../service/server.ts')
      const { parseWorkers, startPrimary, announceListening } = await import('../../service/cluster.ts')
      const workers = parseWorkers(opts.workers ?? process.env.HUB_WORKERS)
      if (cluster.isWorker) {
        const { createLogger } = await import('../../service/logger.ts')
        const logger = createLogger(config.logLevel).child({ worker: cluster.worker?.id })
        const { url } = await startHub(config, { clusterWorker: true, logger })
        announceListening(url)
        return
      }
      if (workers > 1) {
        const { createLogger } = await import('../../service/logger.ts')
        await startPrimary({
          config,
          workers,
          logger: createLogger(config.logLevel).child({ role: 'primary' }),
          async prepare() {
            // migrations, secrets, the demo and connector setup, once, before any worker starts
            const prep = await createHubApp(config)
            await prep.close()
            return prep.demoKeys
          },
          onListening: (url, demoKeys) => process.stdout.write(banner(url, demoKeys, workers)),
        })
        return
      }
      const { url, hub } = await startHub(config)
      process.stdout.write(banner(url, hub.demoKeys, 1))
    })
}
