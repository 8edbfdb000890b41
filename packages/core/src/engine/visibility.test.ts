import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type DataSource, openDataSource } from '../db/index.ts'
import { HubError } from '../errors.ts'
import { createPharmaSchema, pharmaModel, testPrincipal } from '../sql-guard/testing/pharma-fixture.ts'
import { createEngine } from './engine.ts'
import type { SemanticModel } from './model-types.ts'
import { viewKey, visibleModel, withheldDatasets } from './visibility.ts'

const viewer = testPrincipal(['viewer'], { territories: ['ACM-T01'] })
const admin = testPrincipal(['admin'])

/** The pharma model as introspection saw it without foreign keys (a SELECT-only MariaDB user before the fix). */
function modelWithoutJoins(): SemanticModel {
  return { ...pharmaModel(), joins: [] }
}

const names = (m: SemanticModel) => m.datasets.map((d) => d.name).sort()

function refusal(fn: () => unknown): HubError {
  try {
    fn()
  } catch (err) {
    if (err instanceof HubError) return err
    throw err
  }
  throw new Error('expected a refusal')
}

describe('visibleModel with row policies (fail closed)', () => {
  it('withholds every dataset the binding policy cannot reach, and keeps the policy table and declared reference data', () => {
    const model = modelWithoutJoins()
    expect(names(visibleModel(model, viewer))).toEqual(['products', 'territories'])
    expect(
      withheldDatasets(model, viewer)
        .map((w) => w.dataset)
        .sort(),
    ).toEqual(['calls', 'hcps', 'prescriptions', 'reps'])
  })

  it('still shows every dataset to an admin the policy does not bind', () => {
    const model = modelWithoutJoins()
    expect(names(visibleModel(model, admin))).toEqual(names(model))
    expect(withheldDatasets(model, admin)).toEqual([])
  })

  it('keeps datasets that reach the policy table along foreign keys', () => {
    expect(names(visibleModel(pharmaModel(), viewer))).toEqual(names(pharmaModel()))
  })

  it('withholds reference data not declared unrestricted, even for a principal without the attribute', () => {
    const model = pharmaModel()
    for (const d of model.datasets) d.unrestricted = false
    expect(withheldDatasets(model, viewer).map((w) => w.dataset)).toEqual(['products'])
    expect(withheldDatasets(model, testPrincipal(['viewer'])).map((w) => w.dataset)).toEqual(['products'])
  })

  it('binds an optional rule only for principals that carry the attribute', () => {
    const model = modelWithoutJoins()
    model.rowPolicies = [
      { dataset: 'territories', column: 'territory_id', in: { attribute: 'territories', required: false } },
    ]
    const hq = testPrincipal(['analyst'])
    const regional = testPrincipal(['analyst'], { territories: ['ACM-T01'] })
    expect(withheldDatasets(model, hq)).toEqual([])
    expect(names(visibleModel(model, regional))).toEqual(['products', 'territories'])
    // same roles, different binding: the engine must not share one cached view between them
    expect(viewKey(model, hq)).not.toBe(viewKey(model, regional))
  })
})

describe('engine refusals for a withheld dataset', () => {
  let dir: string
  let ds: DataSource
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'nl2q-vis-'))
    ds = openDataSource(`sqlite:${join(dir, 'pharma.sqlite')}`)
    await createPharmaSchema(ds.knex)
  })
  afterAll(async () => {
    await ds.knex.destroy()
    rmSync(dir, { recursive: true, force: true })
  })

  const expectWithheld = (err: HubError, dataset: string) => {
    expect(err.code).toBe('FORBIDDEN')
    expect(err.status).toBe(403)
    expect(err.message).toMatch(new RegExp(`'${dataset}' cannot be scoped by the row policy`))
    expect(err.details).toEqual({ dataset, reason: 'row_policy_unreachable' })
  }

  it('refuses a plan, guarded SQL and a question that read a dataset the policy cannot reach', async () => {
    const engine = createEngine({ ds, model: modelWithoutJoins() })
    const plan = {
      dataset: 'prescriptions',
      measures: [{ field: 'prescriptions.trx', aggregation: 'sum' as const, as: 'trx' }],
    }
    expectWithheld(
      refusal(() => engine.compile(plan as never, viewer)),
      'prescriptions',
    )
    const sqlErr = await engine
      .sql(viewer, { sql: 'SELECT SUM(trx) FROM prescriptions' })
      .then(() => null)
      .catch((e: unknown) => e)
    expect(sqlErr).toBeInstanceOf(HubError)
    expectWithheld(sqlErr as HubError, 'prescriptions')
    const askErr = await engine
      .ask(viewer, { question: 'total trx' })
      .then(() => null)
      .catch((e: unknown) => e)
    expect(askErr).toBeInstanceOf(HubError)
    expectWithheld(askErr as HubError, 'prescriptions')
    expect(engine.summarize(viewer).map((d) => d.name)).not.toContain('prescriptions')
  })

  it('answers the admin from the same model', async () => {
    const engine = createEngine({ ds, model: modelWithoutJoins() })
    const r = await engine.sql(admin, { sql: 'SELECT COUNT(*) AS n FROM prescriptions' })
    expect(Number(r.rows[0]?.[0])).toBeGreaterThan(0)
  })
})
