import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Knex } from 'knex'
import { introspect, openDataSource } from '../packages/core/src/db/index.ts'
import { seedPharma } from '../packages/core/src/demo/index.ts'
import {
  buildValueIndex,
  createEngine,
  inferModel,
  loadOverrides,
} from '../packages/core/src/engine/index.ts'
import { localPrincipal } from '../packages/core/src/principal.ts'
import { loadUnseen } from '../test/fixtures/unseen/gen.ts'
import { UNSEEN, unseenEngine } from '../test/fixtures/unseen/measure.ts'
import { fmt, percentile, row } from './lib.ts'

const DEV = join(import.meta.dirname, '..', 'test', 'fixtures', 'eval', 'pharma-dev.jsonl')
/** Period-over-period series (a recursive calendar CTE and LAG over it), timed on their own too. */
const SERIES = [
  'Quarter over quarter change in TRx',
  'monthly change in Tirosint TRx by territory in 2024',
  'TRx YoY by quarter',
  'week over week NRx for Cytomel in Q4 2024',
]

/** Parse + plan + compile per dev question (no I/O), against the SQLite execution of the same SQL. */
export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'nl2q-bench-engine-'))
  const ds = openDataSource(`sqlite:${join(dir, 'acme.sqlite')}`)
  try {
    await seedPharma(ds, { prefix: 'ACM', seed: 7, scale: 1 })
    const model = inferModel(await introspect(ds), await loadOverrides('pharma'))
    const engine = createEngine({ ds, model, valueIndex: await buildValueIndex(ds, model) })
    const principal = localPrincipal('acme', ['analyst'])
    const questions = readFileSync(DEV, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { question: string; asOf?: string; expect: string })
      .filter((q) => q.expect === 'answer')
    const compiled = questions.map((q) =>
      engine.compile(engine.plan(q.question, { asOf: q.asOf, principal }).plan, principal),
    )
    const rounds = 200
    const times: number[] = []
    for (let r = 0; r < rounds; r++) {
      for (const q of questions) {
        const t = performance.now()
        engine.compile(engine.plan(q.question, { asOf: q.asOf, principal }).plan, principal)
        times.push(performance.now() - t)
      }
    }
    times.sort((a, b) => a - b)
    const series: number[] = []
    for (let r = 0; r < rounds; r++) {
      for (const question of SERIES) {
        const t = performance.now()
        engine.compile(engine.plan(question, { asOf: '2025-01-15', principal }).plan, principal)
        series.push(performance.now() - t)
      }
    }
    series.sort((a, b) => a - b)
    const exec: number[] = []
    const conn = (await ds.knex.client.acquireConnection()) as {
      prepare(sql: string): { raw(): { all(...b: unknown[]): unknown[] } }
    }
    try {
      for (const c of compiled) {
        const stmt = conn.prepare(c.sql).raw()
        const t = performance.now()
        stmt.all(...c.bindings)
        exec.push(performance.now() - t)
      }
    } finally {
      await ds.knex.client.releaseConnection(conn)
    }
    exec.sort((a, b) => a - b)
    const median = percentile(times, 50)
    row(`questions × rounds`, `${questions.length} × ${rounds}`)
    row(
      'parse+plan+compile median',
      `${fmt(median * 1000, 1)} µs`,
      `SQLite exec median ${fmt(percentile(exec, 50), 2)} ms`,
      median / percentile(exec, 50),
    )
    row('parse+plan+compile p99', `${fmt(percentile(times, 99) * 1000, 1)} µs`)
    const seriesMedian = percentile(series, 50)
    row(
      `change series median (${SERIES.length} questions)`,
      `${fmt(seriesMedian * 1000, 1)} µs`,
      `dev median ${fmt(median * 1000, 1)} µs`,
      seriesMedian / median,
    )
    row('target median < 1 ms', median < 1 && seriesMedian < 1 ? 'met' : 'NOT met')
    await unseen(dir)
  } finally {
    await ds.knex.destroy()
    rmSync(dir, { recursive: true, force: true })
  }
}

/**
 * The same figure on the three unseen schemas (purely inferred models, inferred keys): plan +
 * compile of every question the engine answers, against the SQLite execution of its SQL.
 */
async function unseen(dir: string): Promise<void> {
  const times: number[] = []
  const exec: number[] = []
  for (const schema of UNSEEN) {
    const url = `sqlite:${join(dir, `${schema.name}.sqlite`)}`
    await loadUnseen(schema, url)
    const ds = openDataSource(url, { readOnly: true })
    try {
      const engine = await unseenEngine(ds)
      const principal = localPrincipal(schema.name, ['analyst'])
      const answered = schema.cases.filter((c) => {
        try {
          engine.plan(c.q, { asOf: schema.asOf, principal })
          return true
        } catch {
          return false
        }
      })
      for (let r = 0; r < 100; r++)
        for (const c of answered) {
          const t = performance.now()
          engine.compile(engine.plan(c.q, { asOf: schema.asOf, principal }).plan, principal)
          times.push(performance.now() - t)
        }
      for (const c of answered) {
        const compiled = engine.compile(engine.plan(c.q, { asOf: schema.asOf, principal }).plan, principal)
        const t = performance.now()
        await ds.knex.raw(compiled.sql, compiled.bindings as Knex.RawBinding[])
        exec.push(performance.now() - t)
      }
    } finally {
      await ds.knex.destroy()
    }
  }
  times.sort((a, b) => a - b)
  exec.sort((a, b) => a - b)
  const median = percentile(times, 50)
  row(
    'unseen schemas: parse+plan+compile median',
    `${fmt(median * 1000, 1)} µs`,
    `SQLite exec median ${fmt(percentile(exec, 50), 2)} ms`,
    median / percentile(exec, 50),
  )
  row('unseen schemas: target median < 1 ms', median < 1 ? 'met' : 'NOT met')
}
