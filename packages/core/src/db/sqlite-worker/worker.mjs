// The SQLite query worker: runs in a child process of the hub (tinypool, runtime child_process), so
// a statement that runs past its deadline can be stopped by killing the process. Plain JavaScript on
// purpose: it loads the same under tsx, vitest and compiled output, with no loader in the child.
// The protocol (task and answer shapes) is described in ./protocol.ts.
import { statSync } from 'node:fs'
import Database from 'better-sqlite3'

/** Must equal SQLITE_DEADLINE_FUNCTION in engine/execute.ts (guarded SQL calls it per scanned row). */
const DEADLINE_FUNCTION = 'nl2q_alive'
const MAX_HANDLES = 32

/** Open handles by file ({ db, ino, dev }), least recently used first. */
const handles = new Map()
let deadlineAt = Number.POSITIVE_INFINITY

class DeadlineError extends Error {
  constructor() {
    super('deadline passed')
    this.code = 'NL2Q_DEADLINE'
  }
}

class ReadOnlyError extends Error {
  constructor() {
    super('not a single read-only statement')
    this.code = 'NL2Q_READ_ONLY'
  }
}

/**
 * The open handle of `file`, reopened when the file was replaced since (a re-seeded demo tenant is
 * renamed into place): a handle keeps reading the old inode, the hub's own pool would not.
 */
function handle(file) {
  const { ino, dev } = statSync(file)
  const cached = handles.get(file)
  handles.delete(file)
  if (cached && cached.ino === ino && cached.dev === dev) {
    handles.set(file, cached)
    return cached.db
  }
  cached?.db.close()
  const db = new Database(file, { readonly: true, fileMustExist: true })
  db.pragma('busy_timeout = 5000')
  db.pragma('query_only = ON')
  db.function(DEADLINE_FUNCTION, { deterministic: false, directOnly: true }, () => {
    if (Date.now() > deadlineAt) throw new DeadlineError()
    return 1
  })
  handles.set(file, { db, ino, dev })
  if (handles.size > MAX_HANDLES) {
    const [oldest, old] = handles.entries().next().value
    handles.delete(oldest)
    old.db.close()
  }
  return db
}

/** A cell that JSON carries unchanged: null, a string, a boolean or a finite number. */
function isJsonCell(v) {
  return (
    v === null ||
    typeof v === 'string' ||
    typeof v === 'boolean' ||
    (typeof v === 'number' && Number.isFinite(v))
  )
}

function run(task) {
  deadlineAt = Date.now() + task.timeoutMs
  const db = handle(task.file)
  const stmt = db.prepare(task.sql)
  if (!stmt.reader || !stmt.readonly) throw new ReadOnlyError()
  // query_only is set when the handle opens; make sure nothing turned it off since.
  if (!db.pragma('query_only', { simple: true })) db.pragma('query_only = ON')
  stmt.raw(true)
  const columns = stmt.columns().map((c) => c.name)
  const rows = []
  let truncated = false
  let plain = true
  let n = 0
  for (const row of stmt.iterate(...task.bindings)) {
    if (rows.length === task.maxRows) {
      truncated = true
      break
    }
    rows.push(row)
    if (plain) plain = row.every(isJsonCell)
    if (++n % 256 === 0 && Date.now() > deadlineAt) throw new DeadlineError()
  }
  if (Date.now() > deadlineAt) throw new DeadlineError()
  // Rows cross two message hops (process IPC, then tinypool's MessagePort): one JSON string costs a
  // fraction of cloning every cell twice. BLOBs (Buffers) and big integers keep the structured clone.
  return plain
    ? { ok: true, columns, json: JSON.stringify(rows), truncated }
    : { ok: true, columns, rows, truncated }
}

/** Errors travel as data (code, kind), so the hub maps them without relying on error cloning. */
function failure(err) {
  const code = typeof err?.code === 'string' ? err.code : ''
  const kind =
    code === 'ENOENT' || code === 'EACCES' || code === 'EPERM'
      ? 'unavailable'
      : code === 'NL2Q_DEADLINE'
        ? 'timeout'
        : code === 'NL2Q_READ_ONLY'
          ? 'read-only'
          : err instanceof RangeError || err instanceof TypeError
            ? 'argument'
            : code.startsWith('SQLITE_')
              ? 'sqlite'
              : 'other'
  return { ok: false, kind, code, message: String(err?.message ?? err) }
}

export default function query(task) {
  try {
    return run(task)
  } catch (err) {
    return failure(err)
  } finally {
    deadlineAt = Number.POSITIVE_INFINITY
  }
}
