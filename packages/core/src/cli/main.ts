#!/usr/bin/env -S npx tsx
import { Command, CommanderError } from 'commander'
import { EnvSchema } from '../config/index.ts'
import { loadConnectors } from '../connectors/loader.ts'
import { isHubError } from '../errors.ts'
import { createLogger } from '../service/logger.ts'
import { commands } from './commands/index.ts'
import { commandContext } from './hub-runtime.ts'

/**
 * `hub <command>`: every built-in command registers itself from ./commands; connectors add theirs
 * (`Connector.commands`, e.g. `hub powerbi build-mez`). Connector packages are loaded — from
 * HUB_CONNECTORS or the defaults, as `hub start` does — only when the command is not a built-in
 * one (or for help), so the built-in commands start no slower for them.
 */
async function main(argv: string[]): Promise<void> {
  const program = new Command('hub')
    .description('NL2Q Hub — answers natural-language questions about business data')
    .showHelpAfterError()
    .exitOverride()
  for (const register of commands) register(program)
  const name = argv[2]
  const builtIn = program.commands.some((c) => c.name() === name || c.aliases().includes(name ?? ''))
  if (!builtIn) {
    const names = EnvSchema.shape.HUB_CONNECTORS.parse(process.env.HUB_CONNECTORS)
    const logger = createLogger('warn')
    for (const connector of await loadConnectors(names))
      connector.commands?.(program, commandContext(connector, logger))
  }
  await program.parseAsync(argv)
}

main(process.argv).catch((err: unknown) => {
  if (err instanceof CommanderError) {
    process.exitCode = err.exitCode
    return
  }
  if (isHubError(err)) {
    process.stderr.write(`hub: ${err.message} [${err.code}]\n`)
    process.exitCode = 2
    return
  }
  process.stderr.write(`hub: unexpected error: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exitCode = 1
})
