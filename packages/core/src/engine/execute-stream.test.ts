import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type DataSource, openDataSource } from '../db/index.ts'
import { HubError } from '../errors.ts'
import { createPharmaSchema, pharmaModel, testPrincipal } from '../sql-guard/testing/pharma-fixture.ts'
import { createTestDatabase, createTestPgDatabase } from '../testing/test-databases.ts'
import { createEngine } from './engine.ts'
import { streamReadOnly } from './execute-stream.ts'
import type { QueryPlan } from './plan.ts'

const ROWS = 50_000

async function failure(p: Promise<unknown>): Promise<HubError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(HubError)
  return err as HubError
}

async function drain(gen: AsyncGenerator<unknown[][]>, pauseMs = 0): Promise<unknown[][][]> {
  const batches: unknown[][][] = []
  for await (const b of gen) {
    batches.push(b)
    if (pauseMs) await new Promise((r) => setTimeout(r, pauseMs))
  }
  return batches
}

const listing: QueryPlan = {
  dataset: 'prescriptions',
  measures: [],
  dimensions: [],
  select: [
    { field: 'prescriptions.rx_id', as: 'rx_id' },
    { field: 'prescriptions.hcp_id', as: 'hcp_id' },
    { field: 'prescriptions.trx', as: 'trx' },
  ],
  filter: null,
  having: null,
  order: [{ by: 'rx_id', direction: 'asc' }],
  limit: null,
  offset: 0,
  distinct: false,
}

function sharedBehaviour(
  name: string,
  open: () => { ds: DataSource; numbers: string; running(): Promise<number>; endless: string },
) {
  describe(`streamReadOnly on ${name}`, () => {
    it('hands every row over once, in order, in batches of the asked size', async () => {
      const { ds, numbers } = open()
      const batches = await drain(
        streamReadOnly(ds, { sql: numbers, bindings: [] }, { timeoutMs: 30_000, batchRows: 1000 }),
      )
      expect(batches).toHaveLength(ROWS / 1000)
      expect(batches.every((b) => b.length === 1000)).toBe(true)
      const seen = batches.flat().map((r) => Number(r[0]))
      expect(seen).toEqual(Array.from({ length: ROWS }, (_, i) => i + 1))
      expect(batches[0]?.[0]?.[1]).toBe('r1')
    })

    it('keeps up with a slow reader without losing a row (the server waits)', async () => {
      const { ds, numbers } = open()
      const batches = await drain(
        streamReadOnly(ds, { sql: numbers, bindings: [] }, { timeoutMs: 30_000, batchRows: 5000 }),
        20,
      )
      expect(batches.flat()).toHaveLength(ROWS)
    })

    it('ends the statement and frees the connection when the reader stops early', async () => {
      const { ds, numbers, running } = open()
      // more early stops than the pool has connections: a leaked one would block the next stream
      for (let k = 0; k < 4; k++) {
        for await (const batch of streamReadOnly(
          ds,
          { sql: numbers, bindings: [] },
          { timeoutMs: 10_000, batchRows: 100 },
        )) {
          expect(batch).toHaveLength(100)
          break
        }
      }
      const [rest] = await drain(
        streamReadOnly(ds, { sql: 'SELECT 1 AS one', bindings: [] }, { timeoutMs: 5_000, batchRows: 10 }),
      )
      expect(rest).toEqual([[1]])
      for (let i = 0; i < 50 && (await running()) > 0; i++) await new Promise((r) => setTimeout(r, 100))
      expect(await running()).toBe(0)
    })

    it('stops at the stream deadline with QUERY_TIMEOUT, and the server stops too', async () => {
      const { ds, endless, running } = open()
      const started = Date.now()
      const err = await failure(
        drain(streamReadOnly(ds, { sql: endless, bindings: [] }, { timeoutMs: 400, batchRows: 100 }), 5),
      )
      expect(err.code).toBe('QUERY_TIMEOUT')
      expect(Date.now() - started).toBeLessThan(10_000)
      for (let i = 0; i < 50 && (await running()) > 0; i++) await new Promise((r) => setTimeout(r, 100))
      expect(await running()).toBe(0)
    })

    it("stops when the caller's signal aborts, with the caller's reason", async () => {
      const { ds, endless } = open()
      const controller = new AbortController()
      const reason = new HubError('TIMEOUT', 'the client left')
      setTimeout(() => controller.abort(reason), 200)
      const err = await failure(
        drain(
          streamReadOnly(
            ds,
            { sql: endless, bindings: [] },
            { timeoutMs: 30_000, batchRows: 100, signal: controller.signal },
          ),
          5,
        ),
      )
      expect(err).toBe(reason)
    })

    it('reports a statement the database rejects as BAD_REQUEST, and the pool goes on', async () => {
      const { ds } = open()
      for (let k = 0; k < 3; k++) {
        const err = await failure(
          drain(
            streamReadOnly(
              ds,
              { sql: 'SELECT no_such_column FROM calls', bindings: [] },
              { timeoutMs: 5_000, batchRows: 10 },
            ),
          ),
        )
        expect(err.code).toBe('BAD_REQUEST')
      }
      const [one] = await drain(
        streamReadOnly(ds, { sql: 'SELECT 1 AS one', bindings: [] }, { timeoutMs: 5_000, batchRows: 10 }),
      )
      expect(one).toEqual([[1]])
    })

    it('refuses anything but a read', async () => {
      const { ds } = open()
      for (const sql of ['DELETE FROM calls', "UPDATE hcps SET segment = 'A'", 'DROP TABLE calls']) {
        const err = await failure(
          drain(streamReadOnly(ds, { sql, bindings: [] }, { timeoutMs: 5_000, batchRows: 10 })),
        )
        expect(err.code).toBe('READ_ONLY')
      }
      expect(Number((await ds.knex('calls').count({ n: '*' }))[0]?.n)).toBeGreaterThan(0)
    })
  })

  describe(`engine.cursor on ${name}`, () => {
    it('reads what query reads, row policy included, and always yields a first batch', async () => {
      const { ds } = open()
      const engine = createEngine({ ds, model: pharmaModel(ds.dialect), maxRows: 10_000 })
      for (const principal of [
        testPrincipal(['admin']),
        testPrincipal(['viewer'], { territories: ['ACM-T01'] }),
      ]) {
        const whole = await engine.query(principal, listing)
        const streamed: unknown[][] = []
        for await (const batch of engine.cursor(principal, listing, { batchRows: 7 })) {
          expect(batch.columns.map((c) => c.name)).toEqual(['rx_id', 'hcp_id', 'trx'])
          streamed.push(...batch.rows)
        }
        expect(streamed).toEqual(whole.rows)
      }
      const scoped = await engine.query(testPrincipal(['viewer'], { territories: ['ACM-T01'] }), listing)
      const all = await engine.query(testPrincipal(['admin']), listing)
      expect(scoped.rowCount).toBeGreaterThan(0)
      expect(scoped.rowCount).toBeLessThan(all.rowCount)

      const none = { ...listing, filter: { op: 'eq' as const, field: 'prescriptions.trx', value: -1 } }
      const batches = []
      for await (const b of engine.cursor(testPrincipal(['admin']), none)) batches.push(b)
      expect(batches).toHaveLength(1)
      expect(batches[0]?.rows).toEqual([])
      expect(batches[0]?.columns.map((c) => c.name)).toEqual(['rx_id', 'hcp_id', 'trx'])
    })
  })
}

describe('MariaDB', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>
  let ds: DataSource
  beforeAll(async () => {
    db = await createTestDatabase('nl2q_stream')
    ds = openDataSource(db.url, { pool: { max: 2 } })
    await createPharmaSchema(ds.knex)
  })
  afterAll(async () => {
    await ds?.knex.destroy()
    await db?.drop()
  })
  sharedBehaviour('MariaDB', () => ({
    ds,
    numbers: `SELECT seq AS n, CONCAT('r', seq) AS s FROM seq_1_to_${ROWS} ORDER BY seq`,
    endless: 'SELECT a.seq AS nl2q_endless FROM seq_1_to_100000 a, seq_1_to_100000 b',
    async running() {
      const [rows] = (await ds.knex.raw(
        "SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE COMMAND = 'Query' AND (INFO LIKE '%nl2q_endless%' OR INFO LIKE '%seq_1_to_5%') AND INFO NOT LIKE '%PROCESSLIST%'",
      )) as [{ n: number }[]]
      return Number(rows[0]?.n)
    },
  }))
})

describe('PostgreSQL', () => {
  let db: Awaited<ReturnType<typeof createTestPgDatabase>>
  let ds: DataSource
  let watcher: DataSource
  beforeAll(async () => {
    db = await createTestPgDatabase('nl2q_stream')
    ds = openDataSource(db.url, { pool: { max: 2 } })
    watcher = openDataSource(db.url, { pool: { max: 1 } })
    await createPharmaSchema(ds.knex)
  })
  afterAll(async () => {
    await ds?.knex.destroy()
    await watcher?.knex.destroy()
    await db?.drop()
  })
  sharedBehaviour('PostgreSQL', () => ({
    ds,
    numbers: `SELECT n, 'r' || n AS s FROM generate_series(1, ${ROWS}) AS n ORDER BY n`,
    endless:
      'SELECT a AS nl2q_endless FROM generate_series(1, 100000000) AS a, generate_series(1, 100000000) AS b',
    async running() {
      const r = (await watcher.knex.raw(
        "SELECT COUNT(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND state = 'active' AND (query LIKE '%nl2q_endless%' OR query LIKE '%generate_series(1, 5%') AND pid <> pg_backend_pid()",
      )) as { rows: { n: string }[] }
      return Number(r.rows[0]?.n)
    },
  }))
})
