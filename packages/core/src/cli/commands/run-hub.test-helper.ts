import { Command } from 'commander'
import { vi } from 'vitest'
import { register as registerAudit } from './audit.ts'
import { register as registerKey } from './key.ts'
import { register as registerTenant } from './tenant.ts'

/** Run `hub <args>` in-process with HUB_HOME pointing at `home`; returns stdout and the exit code. */
export async function runHub(home: string, args: string[]): Promise<{ out: string; code: number }> {
  const program = new Command('hub').exitOverride()
  registerKey(program)
  registerAudit(program)
  registerTenant(program)
  const chunks: string[] = []
  const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    chunks.push(String(chunk))
    return true
  })
  const saved = { HUB_HOME: process.env.HUB_HOME, HUB_DATABASE_URL: process.env.HUB_DATABASE_URL }
  process.env.HUB_HOME = home
  delete process.env.HUB_DATABASE_URL
  process.exitCode = undefined
  try {
    await program.parseAsync(['node', 'hub', ...args])
  } finally {
    write.mockRestore()
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k]
      else process.env[k] = v
    }
  }
  const code = Number(process.exitCode ?? 0)
  process.exitCode = undefined
  return { out: chunks.join(''), code }
}
