import type { Command } from 'commander'
import { register as ask } from './ask.ts'
import { register as audit } from './audit.ts'
import { register as connector } from './connector.ts'
import { register as demo } from './demo.ts'
import { register as job } from './job.ts'
import { register as key } from './key.ts'
import { register as migrate } from './migrate.ts'
import { register as secrets } from './secrets.ts'
import { register as start } from './start.ts'
import { register as tenant } from './tenant.ts'

/** A CLI command module: adds its sub-command(s) to the program. */
export type RegisterCommand = (program: Command) => void

export const commands: RegisterCommand[] = [
  start,
  tenant,
  migrate,
  demo,
  key,
  audit,
  ask,
  secrets,
  connector,
  job,
]
