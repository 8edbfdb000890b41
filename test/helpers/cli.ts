import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'

const CLI = join(import.meta.dirname, '../../packages/core/src/cli/main.ts')

/**
 * Run the real `hub` CLI (not a TTY here) with `env` over this process's environment. It runs the
 * sources through tsx (with the suite's `--conditions=nl2q-source`), so a test never sees a stale
 * dist/; test/compiled-cli.test.ts covers the compiled CLI.
 */
export async function runHub(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', CLI, ...args],
      {
        env: { ...process.env, ...env },
      },
    )
    return { code: 0, stdout, stderr }
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string }
    return { code: e.code, stdout: e.stdout, stderr: e.stderr }
  }
}
