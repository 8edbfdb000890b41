import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { createAuditLog } from '../packages/core/src/audit/index.ts'
import { openMetadataStore } from '../packages/core/src/metadata/store.ts'
import { openTenantHub } from '../packages/core/src/tenants/index.ts'
import { createTestHub, type TestHub } from './helpers/hub.ts'

let hub: TestHub

beforeAll(async () => {
  hub = await createTestHub()
  // The hub created the demo tenants in its HUB_HOME; the CLI opens the same store from the env.
  await hub.services.tenants.close()
  vi.stubEnv('HUB_HOME', hub.home)
  vi.stubEnv('HUB_DATABASE_URL', undefined)
})

afterAll(async () => {
  vi.unstubAllEnvs()
  await hub.close()
})

async function cliEvents(): Promise<
  { action: string; channel: string | null; outcome: string; rowCount: number | null; detail: unknown }[]
> {
  const metadata = openMetadataStore(`sqlite:${hub.home}/hub.sqlite`)
  try {
    const page = await createAuditLog(metadata).list('acme', { limit: 1000 })
    return page.items.filter((e) => e.channel === 'cli')
  } finally {
    await metadata.close()
  }
}

describe('operator access from the CLI', () => {
  it('audits every read it makes — ask, query, sql and stream — on the tenant chain with channel cli', async () => {
    const before = (await cliEvents()).length
    const cli = await openTenantHub('acme')
    try {
      const answer = await cli.hub.ask({ question: 'total trx by region' })
      await cli.hub.query(answer.plan)
      await cli.hub.sql({ sql: 'select count(*) from prescriptions' })
      for await (const _ of cli.hub.stream(answer.plan, { pageSize: 1000 })) break
    } finally {
      await cli.close()
    }
    const actions = (await cliEvents()).slice(0, (await cliEvents()).length - before).map((e) => e.action)
    expect(actions.sort()).toEqual(['data.ask', 'data.query', 'data.sql', 'data.stream'])
    // one record for the whole streamed read, written when the reader left after its first batch
    const stream = (await cliEvents()).find((e) => e.action === 'data.stream')
    expect(stream).toMatchObject({ outcome: 'success', detail: { stopped: 'by the reader' } })
    expect(stream?.rowCount).toBeGreaterThan(0)
  })
})
