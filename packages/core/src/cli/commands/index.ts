import type { Command } from 'commander'

/** A CLI command module: adds its sub-command(s) to the program. */
export type RegisterCommand = (program: Command) => void

type CommandModule = () => Promise<{ register: RegisterCommand }>

/**
 * The built-in commands by name, in help order. Each module is imported only when its command
 * runs (or for help), so `hub key list` does not load the engine or the HTTP service.
 */
export const commands: Record<string, CommandModule> = {
  start: () => import('./start.ts'),
  tenant: () => import('./tenant.ts'),
  migrate: () => import('./migrate.ts'),
  demo: () => import('./demo.ts'),
  key: () => import('./key.ts'),
  audit: () => import('./audit.ts'),
  ask: () => import('./ask.ts'),
  model: () => import('./model.ts'),
  secrets: () => import('./secrets.ts'),
  connector: () => import('./connector.ts'),
  job: () => import('./job.ts'),
}
