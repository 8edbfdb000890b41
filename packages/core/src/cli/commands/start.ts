import type { Command } from 'commander'
import { loadConfig } from '../../config/index.ts'

export function register(program: Command): void {
  program
    .command('start')
    .description('Start the hub (embedded demo tenants unless HUB_DEMO=0)')
    .option('-p, --port <port>', 'port to listen on (default: $PORT or 8080)')
    .action(async (opts: { port?: string }) => {
      const env = { ...process.env, ...(opts.port ? { PORT: opts.port } : {}) }
      const config = loadConfig(env)
      // imported here, not above: `hub --help` should not load the HTTP service
      const { startHub } = await import('../../service/server.ts')
      const { url, hub } = await startHub(config)
      const lines = [`NL2Q Hub listening on ${url}  (API docs: ${url}/docs)`]
      // A key is printed once, on the start that issues it; later starts name only its file.
      for (const k of hub.demoKeys) {
        lines.push(
          k.created
            ? `  demo tenant ${k.tenant}: admin API key ${k.secret}  (saved in ${k.keyFile})`
            : `  demo tenant ${k.tenant}: admin API key in ${k.keyFile}`,
        )
      }
      if (hub.demoKeys[0]) {
        lines.push(
          `  try: curl -s -H "Authorization: Bearer $(cat ${hub.demoKeys[0].keyFile})" -H 'content-type: application/json' \\`,
          `         -d '{"question":"Total TRx for Tirosint in Q4 2024"}' ${url}/v1/ask`,
        )
      }
      process.stdout.write(`${lines.join('\n')}\n`)
    })
}
