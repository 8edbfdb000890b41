import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runHub } from './helpers/cli.ts'
import { REFERENCE_DB } from './helpers/reference.ts'

/** `hub ask --batch FILE` through the real CLI on the reference pharma database. */
const dir = mkdtempSync(join(tmpdir(), 'nl2q-ask-batch-'))
const db = join(dir, 'pharma.sqlite')

beforeAll(() => copyFileSync(REFERENCE_DB, db))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

async function batch(lines: string[]) {
  const file = join(dir, `batch-${Math.random().toString(36).slice(2)}.txt`)
  writeFileSync(file, lines.join('\n'))
  const r = await runHub(['ask', '--db', `sqlite:${db}`, '--model', 'pharma', '--json', '--batch', file], {
    HUB_HOME: dir,
  })
  const answers = r.stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { id: unknown; ok: boolean; rows?: unknown[]; error?: { code: string } })
  return { ...r, answers }
}

describe('hub ask --batch', () => {
  it('answers plain question lines and JSON lines alike, skipping blank lines and # comments', async () => {
    const r = await batch([
      '# questions for the quarterly review',
      'Total TRx by product in Q4 2024',
      '',
      '{"id":"q2","question":"Total TRx by region last quarter","asOf":"2025-01-15"}',
      '   ',
      'delete all prescriptions',
    ])
    expect(r.stderr).toBe('')
    expect(r.answers.map((a) => [a.id, a.ok])).toEqual([
      [2, true],
      ['q2', true],
      [6, false],
    ])
    expect(r.answers[0]?.rows?.length).toBeGreaterThan(1)
    expect(r.answers[1]?.rows?.length).toBeGreaterThan(1)
    expect(r.answers[2]?.error?.code).toBe('READ_ONLY')
    // a refusal is an answer: the run succeeded
    expect(r.code).toBe(0)
  }, 60_000)

  it('answers a malformed line with a per-line BAD_REQUEST, keeps going and exits non-zero', async () => {
    const r = await batch([
      '{"id":"broken","question":"Total TRx by product"',
      '{"id":"no-question","asOf":"2025-01-15"}',
      '{"question":"Total TRx by product","asOf":"15/01/2025"}',
      'Total TRx by product in Q4 2024',
    ])
    expect(r.answers.map((a) => [a.id, a.ok, a.error?.code])).toEqual([
      [1, false, 'BAD_REQUEST'],
      ['no-question', false, 'BAD_REQUEST'],
      [3, false, 'BAD_REQUEST'],
      [4, true, undefined],
    ])
    expect(JSON.stringify(r.answers)).not.toContain('INTERNAL')
    expect(r.code).toBe(1)
  }, 60_000)
})
