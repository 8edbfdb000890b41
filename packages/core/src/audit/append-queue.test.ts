import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { openMetadataStore } from '../metadata/store.ts'
import { createAppendQueue } from './append-queue.ts'
import { prepareEvent } from './record.ts'
import { sqliteWriter } from './sqlite-writer.ts'
import type { BatchWriter } from './writer.ts'

const dirs: string[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

/** A real SQLite writer that also records how many events each of its transactions held. */
async function recordingWriter(): Promise<{ write: BatchWriter; batches: number[]; close(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'nl2q-append-queue-'))
  dirs.push(dir)
  const store = openMetadataStore(`sqlite:${join(dir, 'hub.sqlite')}`, dir)
  await store.migrate()
  const inner = sqliteWriter(store.knex)
  const batches: number[] = []
  return {
    batches,
    write: (tenant, events) => {
      batches.push(events.length)
      return inner(tenant, events)
    },
    close: () => store.close(),
  }
}

const event = (i: number) => prepareEvent({ action: 'data.ask', outcome: 'success', requestId: `r${i}` })

describe('createAppendQueue', () => {
  it('commits the events of one event-loop turn together, even when each came from its own callback', async () => {
    // Requests arrive one socket callback each; a cached answer reaches its audit record without
    // awaiting any I/O, so each callback enqueues one event. They must share one transaction.
    const { write, batches, close } = await recordingWriter()
    const enqueue = createAppendQueue(write)
    const appended = await Promise.all(
      Array.from(
        { length: 50 },
        (_, i) =>
          new Promise((resolve, reject) =>
            setTimeout(() => enqueue('acme', event(i)).then(resolve, reject), 0),
          ),
      ),
    )
    await close()
    expect(batches).toEqual([50])
    expect((appended as { seq: number }[]).map((r) => r.seq)).toEqual(
      Array.from({ length: 50 }, (_, i) => i + 1),
    )
  })

  it('settles every caller only after its batch committed, and rejects the batch that failed', async () => {
    const { write, close } = await recordingWriter()
    let fail = true
    const enqueue = createAppendQueue(async (tenant, events) => {
      if (fail) throw new Error('disk full')
      return write(tenant, events)
    })
    const refused = await Promise.allSettled([enqueue('acme', event(1)), enqueue('acme', event(2))])
    expect(refused.map((r) => r.status)).toEqual(['rejected', 'rejected'])
    fail = false
    await expect(enqueue('acme', event(3))).resolves.toMatchObject({ seq: 1 })
    await close()
  })
})
