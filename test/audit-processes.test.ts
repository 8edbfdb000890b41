import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { createAuditLog } from '../packages/core/src/audit/index.ts'
import { openMetadataStore } from '../packages/core/src/metadata/store.ts'

const fixture = fileURLToPath(new URL('./audit-writer.fixture.ts', import.meta.url))

function childAppends(url: string, tenant: string, count: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', fixture, url, tenant, String(count)], {
      stdio: ['ignore', 'inherit', 'pipe'],
    })
    let stderr = ''
    child.stderr.on('data', (d) => {
      stderr += String(d)
    })
    child.on('error', reject)
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`child exited ${code}: ${stderr}`)),
    )
  })
}

describe('audit chain shared by several processes on one SQLite file', () => {
  const home = mkdtempSync(join(tmpdir(), 'nl2q-audit-proc-'))
  const url = `sqlite:${join(home, 'hub.sqlite')}`
  afterAll(() => rmSync(home, { recursive: true, force: true }))

  it('never forks when two child processes and this one append at the same time', async () => {
    const store = openMetadataStore(url)
    await store.migrate()
    const log = createAuditLog(store)
    try {
      const mine = (async () => {
        for (let i = 0; i < 1000; i++)
          await log.append('shared', { action: 'data.query', outcome: 'success' })
      })()
      await Promise.all([childAppends(url, 'shared', 1000), childAppends(url, 'shared', 1000), mine])
      const subjects = (await store
        .knex('audit_events')
        .where({ tenant: 'shared' })
        .distinct('subject')) as unknown[]
      expect(subjects.length).toBe(3)
      expect(await log.verify('shared')).toMatchObject({ ok: true, count: 3000 })
    } finally {
      await store.close()
    }
  })
})
