#!/usr/bin/env node
import { Command, CommanderError } from 'commander'
import { EnvSchema } from '../config/index.ts'
import { loadConnectors, readConnectorManifests } from '../connectors/loader.ts'
import { isHubError } from '../errors.ts'
import { commands } from './commands/index.ts'

/**
 * `hub <command>`: every built-in command registers itself from ./commands; connectors add theirs
 * (`Connector.commands`, e.g. `hub powerbi build-mez`). A built-in command loads its own module
 * alone; every built-in module is registered, and the connector packages — from HUB_CONNECTORS
 * or the defaults, as `hub start` does — are resolved, only when the command is not a built-in
 * one (or for help), so each built-in command starts no slower for the others.
 */
async function main(argv: string[]): Promise<void> {
  const program = new Command('hub')
    .description('NL2Q Hub — answers natural-language questions about business data')
    .showHelpAfterError()
    .exitOverride()
  const load = Object.hasOwn(commands, argv[2] ?? '') ? commands[argv[2]!] : undefined
  if (load) (await load()).register(program)
  else {
    for (const module of await Promise.all(Object.values(commands).map((l) => l()))) module.register(program)
    // A connector is imported only for its own command (or when its package.json does not declare
    // its commands); for help the declared commands are listed from package.json alone.
    const names = EnvSchema.shape.HUB_CONNECTORS.parse(process.env.HUB_CONNECTORS)
    const wanted = argv[2] === 'help' ? argv[3] : argv[2]
    const manifests = readConnectorManifests(names)
    const needed = manifests.filter((m) => !m.commands || Object.hasOwn(m.commands, wanted ?? ''))
    for (const connector of await loadConnectors(needed.map((m) => m.name))) connector.commands?.(program)
    for (const m of manifests)
      if (m.commands && !needed.includes(m))
        for (const [command, description] of Object.entries(m.commands))
          program.command(command).description(description)
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
