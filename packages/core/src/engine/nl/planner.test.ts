import { describe, expect, it } from 'vitest'
import type { SchemaInfo } from '../../db/index.ts'
import { isHubError } from '../../errors.ts'
import { inferModel } from '../model/infer.ts'
import { parseOverrides } from '../model/overrides.ts'
import { col, table } from '../testing/schema-builders.ts'
import type { ValueIndex } from '../values/value-index.ts'
import { buildLexicon } from './lexicon.ts'
import { planQuestion } from './planner.ts'

/**
 * Parser mechanisms on a small clinic schema it was never written for (no database needed: the
 * planner is pure). Each test names the mechanism, not a memorised question.
 */
const pk = (name: string) => col(name, 'integer', { primaryKey: true, unique: true, nullable: false })

const schema: SchemaInfo = {
  dialect: 'sqlite',
  tables: [
    table('departments', [
      pk('department_id'),
      col('department_name', 'string', { unique: true }),
      col('floor', 'integer'),
    ]),
    table(
      'doctors',
      [
        pk('doctor_id'),
        col('first_name', 'string'),
        col('last_name', 'string'),
        col('specialty', 'string'),
        col('state', 'string'),
        col('department_id', 'integer'),
        col('salary', 'decimal'),
        col('hired_on', 'date'),
      ],
      [{ columns: ['department_id'], refTable: 'departments', refColumns: ['department_id'] }],
    ),
    table('patients', [
      pk('patient_id'),
      col('full_name', 'string'),
      col('is_insured', 'boolean'),
      col('birth_date', 'date'),
    ]),
    table(
      'visits',
      [
        pk('visit_id'),
        col('doctor_id', 'integer'),
        col('patient_id', 'integer'),
        col('visit_date', 'date'),
        col('visitType', 'string'),
        col('billed_amount', 'decimal'),
        col('duration_minutes', 'integer'),
      ],
      [
        { columns: ['doctor_id'], refTable: 'doctors', refColumns: ['doctor_id'] },
        { columns: ['patient_id'], refTable: 'patients', refColumns: ['patient_id'] },
      ],
    ),
  ],
}

const values: ValueIndex = {
  builtAt: '2025-01-01T00:00:00Z',
  columns: [
    {
      dataset: 'doctors',
      field: 'specialty',
      values: ['Cardiology', 'Dermatology', 'Pediatrics', 'Psychiatry'],
    },
    { dataset: 'doctors', field: 'state', values: ['TX', 'CA', 'NY', 'WA'], codes: 'us-state' },
    {
      dataset: 'departments',
      field: 'department_name',
      values: ['Emergency', 'Outpatient', 'Surgery Center'],
    },
    { dataset: 'visits', field: 'visitType', values: ['Checkup', 'Follow-up', 'Telehealth'] },
  ],
}

const model = inferModel(schema)
const lexicon = buildLexicon(model, values, (f) => !f.hidden)
const plan = (q: string) => planQuestion(q, model, lexicon, '2025-01-15').plan
const refusal = (q: string) => {
  try {
    planQuestion(q, model, lexicon, '2025-01-15')
    return 'answered'
  } catch (err) {
    return isHubError(err) ? err.code : 'crashed'
  }
}

describe('planner mechanisms on an unseen schema', () => {
  it('splits camelCase and snake_case names into words ("visit type")', () => {
    expect(plan('visits by visit type').dimensions).toEqual([{ field: 'visits.visitType', as: 'visitType' }])
  })

  it('reads plural and singular entity names alike and counts them', () => {
    expect(plan('how many doctors').measures).toEqual([
      { field: 'doctors.*', aggregation: 'count', as: 'doctors_count' },
    ])
    expect(plan('number of doctor').measures[0]?.aggregation).toBe('count')
  })

  it('turns person nouns into values of their discipline ("cardiologists" → specialty Cardiology)', () => {
    const p = plan('How many cardiologists are there?')
    expect(p.filter).toEqual({ op: 'eq', field: 'doctors.specialty', value: 'Cardiology' })
    expect(plan('list psychiatrists').filter).toEqual({
      op: 'eq',
      field: 'doctors.specialty',
      value: 'Psychiatry',
    })
  })

  it('maps US state names onto a column of state codes', () => {
    expect(plan('doctors in Texas').filter).toEqual({ op: 'eq', field: 'doctors.state', value: 'TX' })
  })

  it('tolerates a typo in a known value', () => {
    expect(plan('visits for dermatolgy').filter).toEqual({
      op: 'eq',
      field: 'doctors.specialty',
      value: 'Dermatology',
    })
  })

  it('joins along foreign keys to reach a filter or a dimension', () => {
    const p = plan('total billed amount by department name in 2024')
    expect(p.dataset).toBe('visits')
    expect(p.dimensions).toEqual([{ field: 'departments.department_name', as: 'department_name' }])
    expect(p.filter).toEqual({
      op: 'between',
      field: 'visits.visit_date',
      values: ['2024-01-01', '2024-12-31'],
    })
  })

  it('reads -ed forms of a date column ("hired" → hired_on)', () => {
    expect(plan('doctors hired before 2020').filter).toEqual({
      op: 'lte',
      field: 'doctors.hired_on',
      value: '2019-12-31',
    })
  })

  it('reads a boolean column name as a filter and its negation', () => {
    expect(plan('insured patients').filter).toEqual({ op: 'eq', field: 'patients.is_insured', value: true })
    expect(plan('uninsured patients').filter).toEqual({
      op: 'eq',
      field: 'patients.is_insured',
      value: false,
    })
    expect(plan('patients who are not insured').filter).toEqual({
      op: 'eq',
      field: 'patients.is_insured',
      value: false,
    })
  })

  it('ranks with top N and superlatives', () => {
    const top = plan('top 3 doctors by billed amount last year')
    expect(top.order[0]).toEqual({ by: 'billed_amount', direction: 'desc' })
    expect(top.limit).toBe(3)
    const most = plan('which specialty had the fewest visits in 2024?')
    expect(most.dimensions[0]?.field).toBe('doctors.specialty')
    expect(most.order[0]).toEqual({ by: 'visits_count', direction: 'asc' })
    expect(most.limit).toBe(1)
  })

  it('compares aggregates per group with HAVING and columns with WHERE', () => {
    const having = plan('doctors with more than 20 visits')
    expect(having.having).toEqual({ op: 'gt', field: 'visits_count', value: 20 })
    const where = plan('departments with a floor above 2')
    expect(where.filter).toEqual({ op: 'gt', field: 'departments.floor', value: 2 })
  })

  it('lists values joined by "vs" as a comparison and by "and" as one filter', () => {
    const vs = plan('visits for Checkup vs Telehealth by month in 2024')
    expect(vs.dimensions.map((d) => d.field)).toEqual(['visits.visit_date', 'visits.visitType'])
    const and = plan('visits for Checkup and Telehealth in 2024')
    expect(and.dimensions).toEqual([])
    expect(and.filter).toMatchObject({
      op: 'and',
      args: [{ op: 'in', values: ['Checkup', 'Telehealth'] }, {}],
    })
  })

  it('counts distinct entities over a linking fact ("patients who saw a cardiologist")', () => {
    const p = plan('how many patients visited cardiologists in 2024')
    expect(p.dataset).toBe('visits')
    expect(p.measures).toEqual([
      { field: 'visits.patient_id', aggregation: 'count_distinct', as: 'patients_count' },
    ])
  })

  it('refuses writes, unknown words and dangling comparisons instead of guessing', () => {
    expect(refusal('delete every visit')).toBe('READ_ONLY')
    expect(refusal('truncate patients')).toBe('READ_ONLY')
    expect(refusal('what is the weather')).toBe('UNANSWERABLE')
    expect(refusal("show the doctors' passwords")).toBe('UNKNOWN_FIELD')
    expect(refusal('visits more than')).toBe('AMBIGUOUS')
    expect(refusal('visits excluding')).toBe('AMBIGUOUS')
  })

  it('keeps hidden and role-restricted columns out, and says so', () => {
    const overrides = parseOverrides({ datasets: { doctors: { fields: { salary: { roles: ['admin'] } } } } })
    const m = inferModel(schema, overrides)
    const viewerLex = buildLexicon(m, values, (f) => !f.hidden && (!f.roles || f.roles.includes('viewer')))
    expect(() => planQuestion('average salary by specialty', m, viewerLex, '2025-01-15')).toThrow(/salary/)
    const adminLex = buildLexicon(m, values, (f) => !f.hidden)
    expect(
      planQuestion('average salary by specialty', m, adminLex, '2025-01-15').plan.measures[0]?.field,
    ).toBe('doctors.salary')
  })
})
