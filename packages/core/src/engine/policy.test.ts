import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type DataSource, introspect, openDataSource } from '../db/index.ts'
import { createPharmaSchema, pharmaModel, testPrincipal } from '../sql-guard/testing/pharma-fixture.ts'
import { inferModel } from './model/infer.ts'
import { loadOverrides } from './model/overrides.ts'
import type { SemanticModel } from './model-types.ts'
import { applyRowScope, resolveRowScopes, scopedTableSubquery, scopeForTable } from './policy.ts'
import { visibleModel } from './visibility.ts'

const T12 = ['ACM-T01', 'ACM-T02']
const restricted = testPrincipal(['analyst'], { territories: ['ACM-T02', 'ACM-T01', 'ACM-T01'] })

describe('resolveRowScopes', () => {
  it('restricts the rule table and every table that reaches it by foreign keys', () => {
    const scopes = resolveRowScopes(pharmaModel(), restricted)
    expect(Object.keys(scopes)).toEqual(['calls', 'hcps', 'prescriptions', 'reps', 'territories'])
    const inT = { kind: 'in', column: 'territory_id', values: T12 }
    expect(scopes.territories?.scope).toEqual({ kind: 'where', predicates: [inT] })
    expect(scopes.hcps?.scope).toEqual({ kind: 'where', predicates: [inT] })
    expect(scopes.reps?.scope).toEqual({ kind: 'where', predicates: [inT] })
    expect(scopes.prescriptions?.scope).toEqual({
      kind: 'where',
      predicates: [
        {
          kind: 'parent',
          columns: ['hcp_id'],
          parent: { dataset: 'hcps', table: 'hcps', columns: ['hcp_id'] },
          scope: { kind: 'where', predicates: [inT] },
        },
      ],
    })
    // calls reach territories through hcps and through reps: both paths must hold.
    const calls = scopes.calls?.scope
    expect(
      calls?.kind === 'where' && calls.predicates.map((p) => p.kind === 'parent' && p.parent.dataset),
    ).toEqual(['hcps', 'reps'])
    expect(scopeForTable(scopes, 'products')).toBeUndefined()
  })

  it('leaves admin unrestricted unless a rule names admin', () => {
    const admin = testPrincipal(['admin'])
    expect(resolveRowScopes(pharmaModel(), admin)).toEqual({})
    const model = pharmaModel()
    model.rowPolicies = [
      { roles: ['admin'], dataset: 'territories', column: 'territory_id', in: { attribute: 't' } },
    ]
    expect(Object.keys(resolveRowScopes(model, testPrincipal(['admin'], { t: ['ACM-T03'] })))).toContain(
      'calls',
    )
    expect(resolveRowScopes(model, restricted)).toEqual({})
  })

  it('fails closed for a principal without the attribute or with an empty list', () => {
    for (const p of [testPrincipal(['viewer']), testPrincipal(['viewer'], { territories: [] })]) {
      const scopes = resolveRowScopes(pharmaModel(), p)
      for (const t of ['territories', 'hcps', 'reps', 'prescriptions', 'calls'])
        expect(scopes[t]?.scope).toEqual({ kind: 'deny' })
      expect(scopes.products).toBeUndefined()
    }
  })

  it('an optional rule binds only principals that carry the attribute, and an empty list denies', () => {
    const model = pharmaModel()
    model.rowPolicies = [
      { roles: ['viewer'], dataset: 'territories', column: 'territory_id', in: { attribute: 'territories' } },
      {
        roles: ['analyst'],
        dataset: 'territories',
        column: 'territory_id',
        in: { attribute: 'territories', required: false },
      },
    ]
    expect(resolveRowScopes(model, testPrincipal(['analyst']))).toEqual({})
    expect(resolveRowScopes(model, testPrincipal(['viewer'])).hcps?.scope).toEqual({ kind: 'deny' })
    expect(resolveRowScopes(model, testPrincipal(['analyst'], { territories: [] })).hcps?.scope).toEqual({
      kind: 'deny',
    })
    // both rules bind a viewer-analyst with territories: one predicate, not two
    expect(
      resolveRowScopes(model, testPrincipal(['viewer', 'analyst'], { territories: T12 })).hcps?.scope,
    ).toEqual({
      kind: 'where',
      predicates: [{ kind: 'in', column: 'territory_id', values: T12 }],
    })
  })

  it('terminates on foreign-key cycles and self references', () => {
    const model = pharmaModel()
    model.joins.push(
      {
        from: { dataset: 'territories', columns: ['territory_id'] },
        to: { dataset: 'hcps', columns: ['territory_id'] },
      },
      { from: { dataset: 'hcps', columns: ['npi'] }, to: { dataset: 'hcps', columns: ['npi'] } },
    )
    const scopes = resolveRowScopes(model, restricted)
    expect(scopes.territories?.scope.kind).toBe('where')
    expect(scopes.hcps?.scope.kind).toBe('where')
  })

  it('ANDs the scopes of several datasets that describe one table', () => {
    const model = pharmaModel()
    const hcps = model.datasets.find((d) => d.name === 'hcps')
    if (!hcps) throw new Error('fixture')
    model.datasets.push({ ...hcps, name: 'prescribers', hidden: true })
    model.rowPolicies.push({ dataset: 'prescribers', column: 'segment', in: { attribute: 'segments' } })
    const both = scopeForTable(
      resolveRowScopes(model, testPrincipal(['viewer'], { territories: T12, segments: ['A'] })),
      'hcps',
    )
    expect(both).toEqual({
      kind: 'where',
      predicates: [
        { kind: 'in', column: 'territory_id', values: T12 },
        { kind: 'in', column: 'segment', values: ['A'] },
      ],
    })
    // lacking the second attribute denies the shared table
    expect(scopeForTable(resolveRowScopes(model, restricted), 'hcps')).toEqual({ kind: 'deny' })
  })

  it('produces the same scopes whatever the order of rules and joins', () => {
    const a = pharmaModel()
    const b = pharmaModel()
    b.joins.reverse()
    b.datasets.reverse()
    expect(JSON.stringify(resolveRowScopes(b, restricted))).toBe(
      JSON.stringify(resolveRowScopes(a, restricted)),
    )
  })
})

describe('visibleModel', () => {
  it('drops hidden fields, fields of other roles and hidden datasets with their joins', () => {
    const model = pharmaModel()
    const territories = model.datasets.find((d) => d.name === 'territories')
    if (territories) territories.hidden = true
    const viewer = visibleModel(model, testPrincipal(['viewer']))
    const names = (m: SemanticModel, d: string) =>
      m.datasets.find((x) => x.name === d)?.fields.map((f) => f.name)
    expect(names(viewer, 'hcps')).not.toContain('crm_account_id')
    expect(names(viewer, 'reps')).not.toContain('email')
    expect(viewer.datasets.map((d) => d.name)).not.toContain('territories')
    expect(viewer.joins.some((j) => j.to.dataset === 'territories')).toBe(false)
    expect(viewer.rowPolicies).toEqual(model.rowPolicies)
    expect(names(visibleModel(model, testPrincipal(['analyst'])), 'reps')).toContain('email')
    // the original is untouched
    expect(names(model, 'hcps')).toContain('crm_account_id')
  })

  it('drops derived measures over fields the principal cannot see', () => {
    const model = pharmaModel()
    const rx = model.datasets.find((d) => d.name === 'prescriptions')
    const trx = rx?.fields.find((f) => f.name === 'trx')
    if (!rx || !trx) throw new Error('fixture')
    trx.roles = ['admin']
    rx.fields.push(
      {
        ...trx,
        name: 'refills',
        column: undefined,
        roles: undefined,
        derived: { op: '-', left: 'trx', right: 'nrx' },
      },
      {
        ...trx,
        name: 'x',
        column: undefined,
        roles: undefined,
        derived: { op: '*', left: 'refills', right: 'nrx' },
      },
    )
    const fields = visibleModel(model, testPrincipal(['analyst'])).datasets.find(
      (d) => d.name === 'prescriptions',
    )
    expect(fields?.fields.map((f) => f.name)).toEqual([
      'rx_id',
      'hcp_id',
      'product_id',
      'week_ending',
      'payer_type',
      'nrx',
      'quantity',
    ])
  })
})

describe('row scopes in SQL (SQLite)', () => {
  let dir: string
  let ds: DataSource
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'nl2q-policy-'))
    ds = openDataSource(`sqlite:${join(dir, 'pharma.sqlite')}`)
    await createPharmaSchema(ds.knex)
  })
  afterAll(async () => {
    await ds.knex.destroy()
    rmSync(dir, { recursive: true, force: true })
  })

  const count = async (sql: string) => Number(((await ds.knex.raw(sql)) as { n: number }[])[0]?.n)

  it('applyRowScope keeps exactly the rows of the principal territories', async () => {
    const scopes = resolveRowScopes(pharmaModel(), restricted)
    const direct: Record<string, string> = {
      territories: "SELECT COUNT(*) AS n FROM territories WHERE territory_id IN ('ACM-T01','ACM-T02')",
      hcps: "SELECT COUNT(*) AS n FROM hcps WHERE territory_id IN ('ACM-T01','ACM-T02')",
      reps: "SELECT COUNT(*) AS n FROM reps WHERE territory_id IN ('ACM-T01','ACM-T02')",
      prescriptions:
        "SELECT COUNT(*) AS n FROM prescriptions p JOIN hcps h ON h.hcp_id = p.hcp_id WHERE h.territory_id IN ('ACM-T01','ACM-T02')",
      calls:
        "SELECT COUNT(*) AS n FROM calls c JOIN hcps h ON h.hcp_id = c.hcp_id JOIN reps r ON r.rep_id = c.rep_id WHERE h.territory_id IN ('ACM-T01','ACM-T02') AND r.territory_id IN ('ACM-T01','ACM-T02')",
      products: 'SELECT COUNT(*) AS n FROM products',
    }
    for (const [table, sql] of Object.entries(direct)) {
      const qb = ds.knex.from({ x: table }).count({ n: '*' })
      applyRowScope(qb, table, 'x', scopeForTable(scopes, table))
      const [row] = (await qb) as { n: number }[]
      const expected = await count(sql)
      expect(expected).toBeGreaterThan(0)
      expect(Number(row?.n), table).toBe(expected)
    }
  })

  it('scopedTableSubquery stands in for the table as a derived table', async () => {
    const scopes = resolveRowScopes(pharmaModel(), restricted)
    const sub = scopedTableSubquery(ds.knex, 'prescriptions', scopeForTable(scopes, 'prescriptions'), [
      'rx_id',
      'trx',
    ])
    const [row] = (await ds.knex.from(sub.as('prescriptions')).sum({ n: 'trx' })) as { n: number }[]
    const expected = await count(
      "SELECT SUM(trx) AS n FROM prescriptions p JOIN hcps h ON h.hcp_id = p.hcp_id WHERE h.territory_id IN ('ACM-T01','ACM-T02')",
    )
    expect(Number(row?.n)).toBe(expected)
  })

  it('the inferred pharma model with its overrides yields the same scopes as the hand-built one', async () => {
    const inferred = inferModel(await introspect(ds), await loadOverrides('pharma'))
    const byTable = (m: SemanticModel) =>
      Object.fromEntries(Object.values(resolveRowScopes(m, restricted)).map((t) => [t.table, t.scope]))
    expect(byTable(inferred)).toEqual(byTable(pharmaModel()))
  })

  it('a denied scope returns no rows', async () => {
    const scopes = resolveRowScopes(pharmaModel(), testPrincipal(['viewer']))
    const qb = ds.knex.from({ c: 'calls' }).count({ n: '*' })
    applyRowScope(qb, 'calls', 'c', scopeForTable(scopes, 'calls'))
    expect(Number(((await qb) as { n: number }[])[0]?.n)).toBe(0)
  })

  it('composite foreign keys are scoped with a correlated EXISTS', async () => {
    const model = pharmaModel()
    model.rowPolicies = [{ dataset: 'hcps', column: 'specialty', in: { attribute: 'specialties' } }]
    // pretend prescriptions reference hcps by (hcp_id, hcp_id) to exercise the composite path
    const join = model.joins.find((j) => j.from.dataset === 'prescriptions' && j.to.dataset === 'hcps')
    if (!join) throw new Error('fixture')
    join.from.columns = ['hcp_id', 'hcp_id']
    join.to.columns = ['hcp_id', 'hcp_id']
    const scopes = resolveRowScopes(model, testPrincipal(['viewer'], { specialties: ['Cardiology'] }))
    const qb = ds.knex.from({ p: 'prescriptions' }).count({ n: '*' })
    applyRowScope(qb, 'prescriptions', 'p', scopeForTable(scopes, 'prescriptions'))
    expect(qb.toSQL().sql).toContain('exists')
    const expected = await count(
      "SELECT COUNT(*) AS n FROM prescriptions p JOIN hcps h ON h.hcp_id = p.hcp_id WHERE h.specialty = 'Cardiology'",
    )
    expect(expected).toBeGreaterThan(0)
    expect(Number(((await qb) as { n: number }[])[0]?.n)).toBe(expected)
  })
})
