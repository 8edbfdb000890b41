import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Command } from 'commander'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { parse, stringify } from 'yaml'
import { openDataSource } from '../../db/index.ts'
import { register as registerAsk } from './ask.ts'
import { register as registerModel } from './model.ts'

async function hub(args: string[]): Promise<string> {
  const program = new Command('hub').exitOverride()
  registerModel(program)
  registerAsk(program)
  const chunks: string[] = []
  const write = vi.spyOn(process.stdout, 'write').mockImplementation((c) => {
    chunks.push(String(c))
    return true
  })
  try {
    await program.parseAsync(['node', 'hub', ...args])
  } finally {
    write.mockRestore()
  }
  return chunks.join('')
}

describe('hub model export', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nl2q-model-cli-'))
  const db = `sqlite:${join(dir, 'saas.sqlite')}`
  beforeAll(async () => {
    const { knex } = openDataSource(db)
    await knex.raw('CREATE TABLE accounts (id INTEGER PRIMARY KEY, name TEXT NOT NULL, tier TEXT)')
    await knex.raw('CREATE TABLE invoices (id INTEGER PRIMARY KEY, account_id INTEGER, totAmt REAL)')
    await knex('accounts').insert([
      { id: 1, name: 'Orbit', tier: 'gold' },
      { id: 2, name: 'Quartz', tier: 'basic' },
    ])
    await knex('invoices').insert([
      { id: 1, account_id: 1, totAmt: 10 },
      { id: 2, account_id: 1, totAmt: 5 },
      { id: 3, account_id: 2, totAmt: 7 },
    ])
    await knex.destroy()
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('prints an overrides file that a data team edits and loads back with --model', async () => {
    const yaml = await hub(['model', 'export', '--db', db])
    expect(yaml).toMatch(/relationships:\n {2}- from: invoices\.account_id\n {4}to: accounts\.id/)
    const path = join(dir, 'model.yaml')
    // the team's edit: "billings" is what they call the invoice total
    const edited = parse(yaml) as {
      datasets: Record<string, { fields: Record<string, { synonyms?: string[] }> }>
    }
    const total = edited.datasets.invoices?.fields.totAmt
    expect(total?.synonyms).toEqual(['revenue', 'turnover'])
    total?.synonyms?.push('billings')
    writeFileSync(path, stringify(edited))
    const out = await hub(['ask', '--db', db, '--model', path, '--json', 'billings by account tier'])
    const answer = JSON.parse(out) as { rows: unknown[][] }
    expect(answer.rows.map((r) => [r[0], r.at(-1)]).sort()).toEqual([
      ['basic', 7],
      ['gold', 15],
    ])
  })
})
