#!/usr/bin/env -S npx tsx
import { Command, CommanderError } from 'commander'
import { isHubError } from '../errors.ts'
import { commands } from './commands/index.ts'

/** `hub <command>`: every command registers itself from ./commands. */
async function main(argv: string[]): Promise<void> {
  const program = new Command('hub')
    .description('NL2Q Hub — answers natural-language questions about business data')
    .showHelpAfterError()
    .exitOverride()
  for (const register of commands) register(program)
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
