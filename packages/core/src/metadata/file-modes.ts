import { chmodSync, closeSync, existsSync, mkdirSync, openSync, statSync } from 'node:fs'
import { dirname } from 'node:path'

function tighten(path: string, mode: number): void {
  try {
    chmodSync(path, mode)
  } catch (err) {
    // Absent (no WAL yet) or not ours to change (a shared directory): nothing to tighten.
    const code = (err as NodeJS.ErrnoException).code
    if (code !== 'ENOENT' && code !== 'EPERM') throw err
  }
}

/** HUB_HOME holds the store, the keys and the demo databases: owner only (0700). */
export function secureHome(home: string): void {
  mkdirSync(home, { recursive: true, mode: 0o700 })
  if (process.platform === 'win32') return
  // Never a shared directory someone pointed HUB_HOME at (sticky like /tmp, or not ours).
  const st = statSync(home)
  if ((st.mode & 0o1000) === 0 && st.uid === process.getuid?.()) tighten(home, 0o700)
}

/**
 * The metadata store's SQLite file holds API key hashes, the audit trail and sealed secrets: it is
 * created 0600 before SQLite opens it, so its -wal and -shm files (which SQLite creates with the
 * database file's permissions) are 0600 too; files from an older start are tightened.
 */
export function secureSqliteFile(filename: string): void {
  if (filename === ':memory:' || process.platform === 'win32') return
  const dir = dirname(filename)
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 })
  closeSync(openSync(filename, 'a', 0o600))
  for (const f of [filename, `${filename}-wal`, `${filename}-shm`, `${filename}-journal`]) tighten(f, 0o600)
}
