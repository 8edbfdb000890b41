#!/usr/bin/env node
import { Command, CommanderError } from 'commander'
import { EnvSchema } from '../config/index.ts'
import { loadConnectors } from '../connectors/loader.ts'
import { isHubError } from '../errors.ts'
import { commands } from './commands/index.ts'

/**
 * `hub <command>`: every built-in command registers itself from ./commands; connectors add theirs
 * (`Connector.commands`, e.g. `hub powerbi build-mez`). A built-in command loads its own module
 * alone; connector packages are loaded — from HUB_CONNECTORS or the defaults, as `hub start`
 * does — and every module registered only when the command is not a built-in one (or for help),
 * so each built-in command starts no slower for the others.
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
    const names = EnvSchema.shape.HUB_CONNECTORS.parse(process.env.HUB_CONNECTORS)
    for (const connector of await loadConnectors(names)) connector.commands?.(program)
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
