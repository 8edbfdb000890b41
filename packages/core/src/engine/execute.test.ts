import { mkdtempSync, renameSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type DataSource, openDataSource } from '../db/index.ts'
import { HubError } from '../errors.ts'
import { createPharmaSchema, pharmaCounts } from '../sql-guard/testing/pharma-fixture.ts'
import { createTestDatabase, createTestPgDatabase } from '../testing/test-databases.ts'
import { dedicateToReads, executeReadOnly } from './execute.ts'

const opts = { timeoutMs: 5000, maxRows: 1000 }

/**
 * The bound on how long a stopped statement (deadline or abort) may take to come back. The property
 * is "stopped near the deadline, not at the statement's natural end", and a slow shared CI machine
 * must not fail it: every statement stopped here would run far longer on its own (pg_sleep(30) 30 s,
 * a held pool the 60 s acquire timeout, the recursive SQLite counts and the 10^10-row MariaDB join
 * minutes), so a third of the shortest tells the two apart with ample margin. Deadlines are 200–500 ms.
 */
const STOPPED_BEFORE_NATURAL_END_MS = 30_000 / 3

/** A loopback port that nothing listens on (bound once, then closed). */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

const WRITES = [
  'DELETE FROM calls',
  "UPDATE hcps SET segment = 'A'",
  "INSERT INTO territories (territory_id) VALUES ('X')",
  'DROP TABLE calls',
  'CREATE TABLE evil (a int)',
  'ALTER TABLE calls ADD COLUMN evil int',
]

async function expectCode(p: Promise<unknown>, ...codes: string[]): Promise<HubError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(HubError)
  expect(codes).toContain((err as HubError).code)
  return err as HubError
}

function sharedBehaviour(name: string, open: () => DataSource) {
  describe(`executeReadOnly on ${name}`, () => {
    let ds: DataSource
    beforeAll(() => {
      ds = open()
    })

    it('returns rows as arrays in column order, duplicate names kept', async () => {
      const r = await executeReadOnly(
        ds,
        {
          sql: 'SELECT h.territory_id, t.territory_id, h.hcp_id, t.region FROM hcps h JOIN territories t ON t.territory_id = h.territory_id WHERE h.hcp_id = ?',
          bindings: ['ACM-H00002'],
        },
        opts,
      )
      expect(r).toEqual({
        columns: ['territory_id', 'territory_id', 'hcp_id', 'region'],
        rows: [['ACM-T02', 'ACM-T02', 'ACM-H00002', 'Southeast']],
        truncated: false,
      })
    })

    it('returns dates as YYYY-MM-DD strings', async () => {
      const r = await executeReadOnly(
        ds,
        { sql: 'SELECT hire_date FROM reps WHERE rep_id = ?', bindings: ['ACM-R001'] },
        opts,
      )
      expect(r.rows).toEqual([['2020-01-10']])
    })

    it('sets truncated only when there were more rows than maxRows', async () => {
      const q = { sql: 'SELECT hcp_id FROM hcps ORDER BY hcp_id', bindings: [] }
      const five = await executeReadOnly(ds, q, { ...opts, maxRows: 5 })
      expect(five.rows.length).toBe(5)
      expect(five.truncated).toBe(true)
      expect(five.rows[4]).toEqual(['ACM-H00005'])
      const all = await executeReadOnly(ds, q, { ...opts, maxRows: 20 })
      expect(all.rows.length).toBe(20)
      expect(all.truncated).toBe(false)
      const none = await executeReadOnly(ds, q, { ...opts, maxRows: 0 })
      expect(none).toEqual({ columns: ['hcp_id'], rows: [], truncated: true })
    })

    it('refuses every write even when no parser looked at the SQL', async () => {
      const before = await pharmaCounts(ds.knex)
      for (const sql of WRITES)
        await expectCode(executeReadOnly(ds, { sql, bindings: [] }, opts), 'READ_ONLY')
      expect(await pharmaCounts(ds.knex)).toEqual(before)
    })

    it('leaves the pool usable for writers afterwards (access mode restored)', async () => {
      await executeReadOnly(ds, { sql: 'SELECT 1', bindings: [] }, opts)
      await ds.knex('territories').insert({ territory_id: 'ACM-T99', territory_name: 'tmp' })
      await ds.knex('territories').where({ territory_id: 'ACM-T99' }).delete()
    })

    it('reports SQL errors as the caller’s fault without echoing the SQL', async () => {
      const err = await expectCode(
        executeReadOnly(ds, { sql: 'SELECT no_such_column FROM hcps', bindings: [] }, opts),
        'BAD_REQUEST',
      )
      expect(err.message).not.toContain('no_such_column')
    })

    it('refuses to start when the signal is already aborted', async () => {
      await expectCode(
        executeReadOnly(ds, { sql: 'SELECT 1', bindings: [] }, { ...opts, signal: AbortSignal.abort() }),
        'TIMEOUT',
      )
    })
  })
}

describe('SQLite', () => {
  let dir: string
  let ds: DataSource
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'nl2q-exec-'))
    // Opened read-write on purpose: the executor must not rely on the pool being read-only.
    ds = openDataSource(`sqlite:${join(dir, 'pharma.sqlite')}`)
    await createPharmaSchema(ds.knex)
  })
  afterAll(async () => {
    await ds.knex.destroy()
    rmSync(dir, { recursive: true, force: true })
  })
  sharedBehaviour('SQLite', () => ds)

  it('refuses ATTACH, PRAGMA writes and transaction control', async () => {
    for (const sql of [
      `ATTACH DATABASE '${join(dir, 'x.sqlite')}' AS x`,
      'PRAGMA query_only = OFF',
      'BEGIN',
      'VACUUM',
    ])
      await expectCode(executeReadOnly(ds, { sql, bindings: [] }, opts), 'READ_ONLY', 'BAD_REQUEST')
  })

  it('stops a row-producing query at the deadline', async () => {
    const started = Date.now()
    await expectCode(
      executeReadOnly(
        ds,
        {
          sql: 'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT x FROM c',
          bindings: [],
        },
        { timeoutMs: 200, maxRows: 50_000_000 },
      ),
      'QUERY_TIMEOUT',
    )
    expect(Date.now() - started).toBeLessThan(STOPPED_BEFORE_NATURAL_END_MS)
  })

  it('kills a statement that never yields a row at the deadline, without blocking the event loop', async () => {
    // One sqlite3_step that runs for many seconds in C: no row, no deadline function to check.
    const sql =
      'SELECT count(*) FROM (WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 2000000000) SELECT x FROM c)'
    let ticks = 0
    let maxGap = 0
    let last = Date.now()
    const beat = setInterval(() => {
      ticks++
      maxGap = Math.max(maxGap, Date.now() - last)
      last = Date.now()
    }, 20)
    const started = Date.now()
    try {
      await expectCode(
        executeReadOnly(ds, { sql, bindings: [] }, { timeoutMs: 500, maxRows: 10 }),
        'QUERY_TIMEOUT',
      )
    } finally {
      clearInterval(beat)
    }
    // Bounds leave room for a loaded machine; on the hub's thread this statement ran for minutes
    // and blocked the event loop throughout.
    const took = Date.now() - started
    expect(took).toBeGreaterThanOrEqual(450)
    expect(took).toBeLessThan(STOPPED_BEFORE_NATURAL_END_MS)
    expect(ticks).toBeGreaterThan(10)
    expect(maxGap).toBeLessThan(STOPPED_BEFORE_NATURAL_END_MS / 5)
    // The killed worker is replaced: the next query answers.
    const ok = await executeReadOnly(ds, { sql: 'SELECT COUNT(*) FROM calls', bindings: [] }, opts)
    expect(ok.rows).toEqual([[60]])
  })

  it('stops a running statement when the caller goes away', async () => {
    const ctrl = new AbortController()
    setTimeout(() => ctrl.abort(), 200)
    const started = Date.now()
    await expectCode(
      executeReadOnly(
        ds,
        {
          sql: 'SELECT count(*) FROM (WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 2000000000) SELECT x FROM c)',
          bindings: [],
        },
        { timeoutMs: 60_000, maxRows: 10, signal: ctrl.signal },
      ),
      'TIMEOUT',
    )
    expect(Date.now() - started).toBeLessThan(STOPPED_BEFORE_NATURAL_END_MS)
  })

  it('passes BLOBs and text from the worker unchanged', async () => {
    const r = await executeReadOnly(
      ds,
      { sql: "SELECT x'00ff' AS b, ? AS s, 1.5 AS f, NULL AS z", bindings: ['é\u{1F600}'] },
      opts,
    )
    expect(r.rows).toEqual([[Buffer.from([0, 255]), 'é\u{1F600}', 1.5, null]])
    expect(Buffer.isBuffer(r.rows[0]?.[0])).toBe(true)
  })

  it('reads the new database after the file was replaced (renamed into place)', async () => {
    const file = join(dir, 'swap.sqlite')
    const write = async (path: string, n: number) => {
      const w = openDataSource(`sqlite:${path}`)
      await w.knex.raw('CREATE TABLE t (n INTEGER)')
      await w.knex.raw('INSERT INTO t VALUES (?)', [n])
      await w.knex.destroy()
    }
    await write(file, 1)
    const reader = openDataSource(`sqlite:${file}`, { readOnly: true })
    try {
      const q = { sql: 'SELECT n FROM t', bindings: [] }
      expect((await executeReadOnly(reader, q, opts)).rows).toEqual([[1]])
      await write(`${file}.next`, 2)
      renameSync(`${file}.next`, file)
      expect((await executeReadOnly(reader, q, opts)).rows).toEqual([[2]])
    } finally {
      await reader.knex.destroy()
    }
  })

  it('answers 503 DATA_SOURCE_UNAVAILABLE with a retry hint when the SQLite file is missing', async () => {
    const gone = openDataSource(`sqlite:${join(dir, 'missing.sqlite')}`, { readOnly: true })
    try {
      const err = await expectCode(
        executeReadOnly(gone, { sql: 'SELECT 1', bindings: [] }, opts),
        'DATA_SOURCE_UNAVAILABLE',
      )
      expect(err.status).toBe(503)
      expect(err.headers?.['Retry-After']).toMatch(/^\d+$/)
      expect(err.message).not.toContain(dir)
    } finally {
      await gone.knex.destroy()
    }
  })
})

describe('MariaDB', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>
  let ds: DataSource
  beforeAll(async () => {
    db = await createTestDatabase('nl2q_exec')
    ds = openDataSource(db.url, { pool: { max: 2 } })
    await createPharmaSchema(ds.knex)
  })
  afterAll(async () => {
    await ds?.knex.destroy()
    await db?.drop()
  })
  sharedBehaviour('MariaDB', () => ds)

  const SLOW = 'SELECT COUNT(*) FROM seq_1_to_100000 a, seq_1_to_100000 b WHERE a.seq + b.seq > 3'

  async function runningQueries(): Promise<number> {
    const [rows] = (await ds.knex.raw(
      "SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE COMMAND = 'Query' AND INFO LIKE '%seq_1_to_100000%' AND INFO NOT LIKE '%PROCESSLIST%'",
    )) as [{ n: number }[]]
    return Number(rows[0]?.n)
  }

  it('stops a slow query at the timeout', async () => {
    const started = Date.now()
    await expectCode(
      executeReadOnly(ds, { sql: SLOW, bindings: [] }, { timeoutMs: 300, maxRows: 10 }),
      'QUERY_TIMEOUT',
    )
    expect(Date.now() - started).toBeLessThan(STOPPED_BEFORE_NATURAL_END_MS)
    expect(await runningQueries()).toBe(0)
  })

  it('counts the wait for a pooled connection against the query deadline', async () => {
    // Both connections of the pool are busy: the query must not wait past its own limit for one.
    const held = [await ds.knex.client.acquireConnection(), await ds.knex.client.acquireConnection()]
    const started = Date.now()
    try {
      await expectCode(
        executeReadOnly(ds, { sql: 'SELECT 1', bindings: [] }, { timeoutMs: 300, maxRows: 10 }),
        'QUERY_TIMEOUT',
      )
    } finally {
      for (const c of held) await ds.knex.client.releaseConnection(c)
    }
    expect(Date.now() - started).toBeLessThan(STOPPED_BEFORE_NATURAL_END_MS)
    const ok = await executeReadOnly(ds, { sql: 'SELECT COUNT(*) FROM calls', bindings: [] }, opts)
    expect(ok.rows).toEqual([[60]])
  })

  it('answers 503 DATA_SOURCE_UNAVAILABLE with a retry hint when the server refuses connections', async () => {
    const port = await closedPort()
    const down = openDataSource(`mysql://root@127.0.0.1:${port}/nothing`, { readOnly: true })
    try {
      const err = await expectCode(
        executeReadOnly(down, { sql: 'SELECT 1', bindings: [] }, opts),
        'DATA_SOURCE_UNAVAILABLE',
      )
      expect(err.status).toBe(503)
      expect(err.headers?.['Retry-After']).toMatch(/^\d+$/)
      expect(err.message).not.toContain(String(port))
    } finally {
      await down.knex.destroy()
    }
  })

  it('kills the running query when the signal aborts', async () => {
    const ctrl = new AbortController()
    const started = Date.now()
    setTimeout(() => ctrl.abort(), 250)
    await expectCode(
      executeReadOnly(
        ds,
        { sql: SLOW, bindings: [] },
        { timeoutMs: 60_000, maxRows: 10, signal: ctrl.signal },
      ),
      'TIMEOUT',
    )
    expect(Date.now() - started).toBeLessThan(STOPPED_BEFORE_NATURAL_END_MS)
    // KILL QUERY is asynchronous on the server: give it a moment, bounded.
    for (let i = 0; i < 20 && (await runningQueries()) > 0; i++) await new Promise((r) => setTimeout(r, 100))
    expect(await runningQueries()).toBe(0)
    const ok = await executeReadOnly(ds, { sql: 'SELECT COUNT(*) FROM calls', bindings: [] }, opts)
    expect(ok.rows).toEqual([[60]])
  })

  it('a SELECT that writes through a stored function is stopped by the read-only transaction', async () => {
    await ds.knex.raw(
      'CREATE FUNCTION nl2q_evil() RETURNS INT MODIFIES SQL DATA BEGIN DELETE FROM calls; RETURN 1; END',
    )
    const before = await pharmaCounts(ds.knex)
    await expectCode(executeReadOnly(ds, { sql: 'SELECT nl2q_evil()', bindings: [] }, opts), 'READ_ONLY')
    expect(await pharmaCounts(ds.knex)).toEqual(before)
    expect(before.calls).toBe(60)
  })

  it('refuses statements a read-only transaction would not stop', async () => {
    for (const sql of [
      'SET GLOBAL max_connections = 1',
      "SELECT 1 INTO OUTFILE '/tmp/nl2q_exec_x'",
      'DO 1',
      '/*!40000 SET GLOBAL max_connections = 1 */ SELECT 1',
      'HANDLER calls OPEN',
    ])
      await expectCode(executeReadOnly(ds, { sql, bindings: [] }, opts), 'READ_ONLY')
  })

  it('keeps bound values inside their string even when the server runs NO_BACKSLASH_ESCAPES', async () => {
    const one = openDataSource(db.url, { pool: { max: 1 } })
    try {
      await one.knex.raw("SET SESSION sql_mode = CONCAT(@@sql_mode, ',NO_BACKSLASH_ESCAPES')")
      const evil = "' OR 1 = 1 -- "
      const r = await executeReadOnly(
        one,
        { sql: 'SELECT COUNT(*) FROM hcps WHERE hcp_id = ?', bindings: [evil] },
        opts,
      )
      expect(r.rows).toEqual([[0]])
    } finally {
      await one.knex.destroy()
    }
  })

  it('stops the server streaming when a caller forgot the LIMIT', async () => {
    const r = await executeReadOnly(
      ds,
      { sql: 'SELECT a.seq FROM seq_1_to_100000 a, seq_1_to_1000 b', bindings: [] },
      { timeoutMs: 20_000, maxRows: 3 },
    )
    expect(r.rows.length).toBe(3)
    expect(r.truncated).toBe(true)
  })

  it('keeps the sessions of a pool dedicated to reads read-only, and still refuses every write', async () => {
    await ds.knex.raw(
      'CREATE FUNCTION nl2q_evil_dedicated() RETURNS INT MODIFIES SQL DATA BEGIN DELETE FROM calls; RETURN 1; END',
    )
    const reader = openDataSource(db.url, { readOnly: true, pool: { max: 1 } })
    dedicateToReads(reader)
    try {
      const before = await pharmaCounts(ds.knex)
      for (let i = 0; i < 3; i++) {
        const r = await executeReadOnly(reader, { sql: 'SELECT COUNT(*) FROM calls', bindings: [] }, opts)
        expect(r.rows).toEqual([[60]])
      }
      for (const sql of [...WRITES, 'SELECT nl2q_evil_dedicated()'])
        await expectCode(executeReadOnly(reader, { sql, bindings: [] }, opts), 'READ_ONLY')
      // The one pooled connection stayed read-only between queries: a direct write is refused too.
      const [mode] = (await reader.knex.raw('SELECT @@SESSION.tx_read_only AS ro')) as [{ ro: number }[]]
      expect(Number(mode[0]?.ro)).toBe(1)
      await expect(reader.knex('calls').delete()).rejects.toMatchObject({ errno: 1792 })
      expect(await pharmaCounts(ds.knex)).toEqual(before)
    } finally {
      await reader.knex.destroy()
    }
  })
})

describe('PostgreSQL', () => {
  let db: Awaited<ReturnType<typeof createTestPgDatabase>>
  let ds: DataSource
  let watcher: DataSource
  beforeAll(async () => {
    db = await createTestPgDatabase('nl2q_exec')
    ds = openDataSource(db.url, { pool: { max: 2 } })
    watcher = openDataSource(db.url, { pool: { max: 1 } })
    await createPharmaSchema(ds.knex)
  })
  afterAll(async () => {
    await ds?.knex.destroy()
    await watcher?.knex.destroy()
    await db?.drop()
  })
  sharedBehaviour('PostgreSQL', () => ds)

  const SLOW = 'SELECT pg_sleep(30) AS nl2q_slow'

  /** Backends of this database still running the slow statement. */
  async function runningQueries(): Promise<number> {
    const r = (await watcher.knex.raw(
      "SELECT COUNT(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND state = 'active' AND query LIKE '%nl2q_slow%' AND pid <> pg_backend_pid()",
    )) as { rows: { n: number }[] }
    return Number(r.rows[0]?.n)
  }

  async function settle(): Promise<number> {
    // pg_cancel_backend is asynchronous: give it a moment, bounded.
    for (let i = 0; i < 20 && (await runningQueries()) > 0; i++) await new Promise((r) => setTimeout(r, 100))
    return runningQueries()
  }

  it('stops a slow query at the timeout with 504 QUERY_TIMEOUT and cancels the backend', async () => {
    const started = Date.now()
    const err = await expectCode(
      executeReadOnly(ds, { sql: SLOW, bindings: [] }, { timeoutMs: 300, maxRows: 10 }),
      'QUERY_TIMEOUT',
    )
    expect(err.status).toBe(504)
    expect(Date.now() - started).toBeLessThan(STOPPED_BEFORE_NATURAL_END_MS)
    expect(await settle()).toBe(0)
  })

  it('counts the wait for a pooled connection against the query deadline', async () => {
    const held = [await ds.knex.client.acquireConnection(), await ds.knex.client.acquireConnection()]
    const started = Date.now()
    try {
      await expectCode(
        executeReadOnly(ds, { sql: 'SELECT 1', bindings: [] }, { timeoutMs: 300, maxRows: 10 }),
        'QUERY_TIMEOUT',
      )
    } finally {
      for (const c of held) await ds.knex.client.releaseConnection(c)
    }
    expect(Date.now() - started).toBeLessThan(STOPPED_BEFORE_NATURAL_END_MS)
    const ok = await executeReadOnly(ds, { sql: 'SELECT COUNT(*) FROM calls', bindings: [] }, opts)
    expect(ok.rows).toEqual([[60]])
  })

  it('cancels the running backend when the signal aborts', async () => {
    const ctrl = new AbortController()
    const started = Date.now()
    setTimeout(() => ctrl.abort(), 250)
    await expectCode(
      executeReadOnly(
        ds,
        { sql: SLOW, bindings: [] },
        { timeoutMs: 60_000, maxRows: 10, signal: ctrl.signal },
      ),
      'TIMEOUT',
    )
    expect(Date.now() - started).toBeLessThan(STOPPED_BEFORE_NATURAL_END_MS)
    expect(await settle()).toBe(0)
    const ok = await executeReadOnly(ds, { sql: 'SELECT COUNT(*) FROM calls', bindings: [] }, opts)
    expect(ok.rows).toEqual([[60]])
  })

  it('answers 503 DATA_SOURCE_UNAVAILABLE with a retry hint when the server refuses connections', async () => {
    const port = await closedPort()
    const down = openDataSource(`postgres://postgres@127.0.0.1:${port}/nothing`, { readOnly: true })
    try {
      const err = await expectCode(
        executeReadOnly(down, { sql: 'SELECT 1', bindings: [] }, opts),
        'DATA_SOURCE_UNAVAILABLE',
      )
      expect(err.status).toBe(503)
      expect(err.headers?.['Retry-After']).toMatch(/^\d+$/)
      expect(err.message).not.toContain(String(port))
    } finally {
      await down.knex.destroy()
    }
  })

  it('stops a write that passes the read-shape check in the read-only transaction', async () => {
    await ds.knex.raw(
      'CREATE FUNCTION nl2q_evil() RETURNS int LANGUAGE sql AS $$ DELETE FROM calls; SELECT 1 $$',
    )
    const before = await pharmaCounts(ds.knex)
    for (const sql of [
      'WITH gone AS (DELETE FROM calls RETURNING 1) SELECT COUNT(*) FROM gone',
      'SELECT nl2q_evil()',
      'SELECT * INTO evil_copy FROM calls',
    ])
      await expectCode(executeReadOnly(ds, { sql, bindings: [] }, opts), 'READ_ONLY')
    expect(await pharmaCounts(ds.knex)).toEqual(before)
    expect(before.calls).toBe(60)
  })

  it('keeps the sessions of a read-only pool read-only outside the executor too', async () => {
    const reader = openDataSource(db.url, { readOnly: true, pool: { max: 1 } })
    try {
      await expect(reader.knex.raw('DELETE FROM calls')).rejects.toMatchObject({ code: '25006' })
      const r = await executeReadOnly(reader, { sql: 'SELECT COUNT(*) FROM calls', bindings: [] }, opts)
      expect(r.rows).toEqual([[60]])
    } finally {
      await reader.knex.destroy()
    }
  })
})
