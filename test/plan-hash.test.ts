import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAuditLog } from '../packages/core/src/audit/index.ts'
import { planHash } from '../packages/core/src/canonical/index.ts'
import { loadConfig } from '../packages/core/src/config/index.ts'
import { type QueryPlan, QueryPlanSchema } from '../packages/core/src/engine/plan.ts'
import { localPrincipal } from '../packages/core/src/principal.ts'
import { createHubApp, type RunningHub } from '../packages/core/src/service/server.ts'

const home = mkdtempSync(join(tmpdir(), 'nl2q-plan-hash-'))
let running: RunningHub

beforeAll(async () => {
  running = await createHubApp(loadConfig({ HUB_HOME: home, HUB_DEMO: '1', HUB_LOG_LEVEL: 'silent' }), {
    noConnectors: true,
    logger: pino({ level: 'silent' }),
  })
})

afterAll(async () => {
  await running?.close()
  rmSync(home, { recursive: true, force: true })
})

describe('the plan hash in the audit trail', () => {
  it('records the same plan hash for the same plan whatever the order of its keys', async () => {
    const plan = QueryPlanSchema.parse({
      dataset: 'products',
      measures: [{ field: 'products.list_price', aggregation: 'sum', as: 'total' }],
    })
    // The same plan with every object's keys in reverse order.
    const reversed = JSON.parse(
      JSON.stringify(plan, (_k, v: unknown) =>
        v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).reverse()) : v,
      ),
    ) as QueryPlan
    expect(JSON.stringify(reversed)).not.toBe(JSON.stringify(plan))
    const principal = localPrincipal('acme')
    const ctx = { requestId: 'plan-hash', clientIp: null, channel: 'test' }
    await running.services.hub.query(principal, plan, ctx)
    await running.services.hub.query(principal, reversed, ctx)
    const page = await createAuditLog(running.services.metadata).list('acme', { action: 'data.query' })
    const hashes = page.items.filter((e) => e.requestId === 'plan-hash').map((e) => e.planHash)
    expect(hashes).toEqual([planHash(plan), planHash(plan)])
  })
})
