import { expect, it } from 'vitest'
import type { DataSource } from '../packages/core/src/db/index.ts'
import type { Engine } from '../packages/core/src/engine/index.ts'
import { isHubError } from '../packages/core/src/errors.ts'
import type { Principal } from '../packages/core/src/principal.ts'

/**
 * Result comparison the way the NL evaluation judges answers (test/fixtures/eval/check.py): the answer is
 * right when its rows, projected onto some choice of its columns, equal the gold rows — as a
 * multiset, or in order. Numbers compare to 5 significant digits; dates may be 'YYYY-MM-DD',
 * 'YYYY-MM' or a year.
 */
type Norm = string | number | null

export function norm(v: unknown): Norm {
  if (v === null || v === undefined) return null
  if (typeof v === 'boolean') return v ? 1 : 0
  if (typeof v === 'number' || typeof v === 'bigint') return Number(Number(v).toPrecision(5))
  const s = String(v).trim()
  if (/^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(s)) return Number(Number(s).toPrecision(5))
  if (/^\d{4}$/.test(s)) return `${s}-01-01`
  if (/^\d{4}-\d{2}$/.test(s)) return `${s}-01`
  const m = /^(\d{4}-\d{2}-\d{2})[T ].*/.exec(s)
  if (m) return m[1] as string
  return s
}

const key = (v: Norm) => (v === null ? 'null' : `${typeof v}:${v}`)

function column(rows: unknown[][], j: number): string[] {
  return rows.map((r) => key(norm(r[j])))
}

export function sameAnswer(
  gold: unknown[][],
  got: unknown[][],
  ordered = false,
): { ok: boolean; why: string } {
  if (gold.length !== got.length) return { ok: false, why: `rows ${got.length} != gold ${gold.length}` }
  if (gold.length === 0) return { ok: true, why: '' }
  const k = gold[0]?.length ?? 0
  const m = got[0]?.length ?? 0
  if (m < k) return { ok: false, why: `columns ${m} < gold ${k}` }
  const cands: number[][] = []
  for (let j = 0; j < k; j++) {
    const g = column(gold, j).sort().join('|')
    const cj = []
    for (let c = 0; c < m; c++) if (column(got, c).sort().join('|') === g) cj.push(c)
    if (cj.length === 0)
      return { ok: false, why: `no column matches gold column ${j} (e.g. ${String(gold[0]?.[j])})` }
    cands.push(cj)
  }
  const goldRows = gold.map((r) => r.map((v) => key(norm(v))).join('|'))
  const tryCombo = (combo: number[]): boolean => {
    const proj = got.map((r) => combo.map((c) => key(norm(r[c]))).join('|'))
    if (ordered) return proj.every((p, i) => p === goldRows[i])
    return [...proj].sort().join('\n') === [...goldRows].sort().join('\n')
  }
  // bounded search over the column choices
  let tried = 0
  const walk = (j: number, combo: number[]): boolean => {
    if (tried > 10_000) return false
    if (j === k) {
      tried++
      return tryCombo(combo)
    }
    for (const c of cands[j] ?? []) if (!combo.includes(c) && walk(j + 1, [...combo, c])) return true
    return false
  }
  return walk(0, [])
    ? { ok: true, why: '' }
    : { ok: false, why: 'columns match one by one but not row by row' }
}

export interface GoldCase {
  q: string
  gold: string
  ordered?: boolean
}

export interface RefusalCase {
  q: string
  code: string
}

/**
 * One vitest case per question: answered like its hand-written SQL (judged as check.py does), or
 * refused with the expected code. `get` is read when a case runs (after the suite's beforeAll).
 */
export function goldCaseTests(
  get: () => { engine: Engine; ds: DataSource },
  principal: Principal,
  asOf: string,
  cases: readonly GoldCase[],
  refusals: readonly RefusalCase[],
): void {
  for (const c of cases) {
    it(`answers "${c.q}" like the hand-written SQL`, async () => {
      const { engine, ds } = get()
      const r = await engine.ask(principal, { question: c.q, asOf })
      const gold = (await ds.knex.raw(c.gold)) as Record<string, unknown>[]
      const verdict = sameAnswer(
        gold.map((row) => Object.values(row)),
        r.rows,
        c.ordered,
      )
      expect(verdict, `${r.interpretation}\n${r.sql}`).toEqual({ ok: true, why: '' })
    })
  }
  for (const c of refusals) {
    it(`refuses "${c.q}" with ${c.code}`, async () => {
      const err = await get()
        .engine.ask(principal, { question: c.q, asOf })
        .catch((e: unknown) => e)
      expect(isHubError(err) && err.code).toBe(c.code)
    })
  }
}
