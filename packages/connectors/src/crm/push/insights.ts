import type { BoundHub, QueryPlan } from '@nl2q/core'

/** The Account fields the push writes (a rep sees them in Veeva). */
export interface Insight {
  accountId: string
  fields: {
    NL2Q_Insights__c: string
    Prescribing_Trend__c: string
    Recommended_Message__c: string
    Last_Analysis_Date__c: string
  }
}

const DAY = 86_400_000
const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10)

/** Every row of a plan, page by page (no row cap is hit, whatever the tenant's size). */
async function all(hub: BoundHub, plan: QueryPlan, signal?: AbortSignal): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = []
  for await (const page of hub.stream(plan, { pageSize: 5000, ...(signal ? { signal } : {}) })) {
    const names = page.columns.map((c) => c.name)
    for (const r of page.rows) out.push(Object.fromEntries(names.map((n, i) => [n, r[i]])))
  }
  return out
}

const plan = (p: Partial<QueryPlan> & { dataset: string }): QueryPlan =>
  ({
    measures: [],
    dimensions: [],
    select: [],
    filter: null,
    having: null,
    order: [],
    limit: null,
    offset: 0,
    distinct: false,
    ...p,
  }) as QueryPlan

export function trendOf(recent: number, prior: number): { label: string; pct: number | null } {
  if (prior === 0) return { label: recent > 0 ? 'New' : 'Inactive', pct: null }
  const pct = Math.round(((recent - prior) / prior) * 100)
  return { label: pct > 10 ? 'Growing' : pct < -10 ? 'Declining' : 'Stable', pct }
}

/** The rule-based message: what a rep should do next with this HCP. */
export function recommend(
  trend: string,
  pct: number | null,
  rank: number,
  lastCall: string | null,
  asOf: string,
): string {
  const daysSince = lastCall ? Math.round((Date.parse(asOf) - Date.parse(lastCall)) / DAY) : null
  const noRecentCall = daysSince === null || daysSince > 60
  if (trend === 'Declining' && noRecentCall)
    return `Re-engage: TRx down ${Math.abs(pct ?? 0)}% and no call in 60+ days`
  if (trend === 'Declining') return `Discuss barriers: TRx down ${Math.abs(pct ?? 0)}% over 13 weeks`
  if ((trend === 'Growing' || trend === 'New') && rank <= 3)
    return 'Reinforce: a top-3 prescriber in the territory and growing'
  if (noRecentCall) return 'Schedule a visit: no call in 60+ days'
  return 'Maintain cadence'
}

/**
 * Per-HCP insights computed through the audited engine (typed query plans, bound to the caller —
 * the integration principal in a job — and so scoped by its policy): TRx over the last 13 weeks vs the
 * prior 13, rank within territory, last completed call, and a rule-based message. `asOf` is the
 * last week of data, so the values (and their hashes) are stable until the data changes.
 */
export async function computeInsights(hub: BoundHub, signal?: AbortSignal): Promise<Insight[]> {
  const last = await all(
    hub,
    plan({
      dataset: 'prescriptions',
      measures: [{ field: 'prescriptions.week_ending', aggregation: 'max', as: 'as_of' }],
    }),
    signal,
  )
  const asOfRaw = last[0]?.as_of
  if (!asOfRaw) return []
  const asOf = String(asOfRaw).slice(0, 10)
  const d13 = isoDay(Date.parse(asOf) - 13 * 7 * DAY)
  const d26 = isoDay(Date.parse(asOf) - 26 * 7 * DAY)
  const window = (from: string, to: string) =>
    plan({
      dataset: 'prescriptions',
      measures: [{ field: 'prescriptions.trx', aggregation: 'sum', as: 'trx' }],
      dimensions: [
        { field: 'hcps.crm_account_id', as: 'account_id' },
        { field: 'hcps.territory_id', as: 'territory_id' },
      ],
      filter: {
        op: 'and',
        args: [
          { op: 'gt', field: 'prescriptions.week_ending', value: from },
          { op: 'lte', field: 'prescriptions.week_ending', value: to },
        ],
      },
      order: [{ by: 'account_id', direction: 'asc' }],
    })
  const recentRows = await all(hub, window(d13, asOf), signal)
  const priorRows = await all(hub, window(d26, d13), signal)
  const calls = await all(
    hub,
    plan({
      dataset: 'calls',
      measures: [{ field: 'calls.call_date', aggregation: 'max', as: 'last_call' }],
      dimensions: [{ field: 'hcps.crm_account_id', as: 'account_id' }],
      filter: { op: 'eq', field: 'calls.status', value: 'Completed' },
    }),
    signal,
  )
  const prior = new Map(priorRows.map((r) => [String(r.account_id), Number(r.trx)]))
  const territory = new Map<string, string>()
  const recent = new Map<string, number>()
  for (const r of [...priorRows, ...recentRows]) {
    if (r.account_id === null || r.account_id === undefined) continue
    territory.set(String(r.account_id), String(r.territory_id))
    if (!recent.has(String(r.account_id))) recent.set(String(r.account_id), 0)
  }
  for (const r of recentRows) if (r.account_id !== null) recent.set(String(r.account_id), Number(r.trx))
  const trx = [...recent.keys()].sort().map((id) => ({
    account_id: id,
    territory_id: territory.get(id),
    trx_recent: recent.get(id) ?? 0,
    trx_prior: prior.get(id) ?? 0,
  }))
  const lastCall = new Map(
    calls.map((c) => [String(c.account_id), c.last_call ? String(c.last_call).slice(0, 10) : null]),
  )
  const byTerritory = new Map<string, { id: string; recent: number }[]>()
  for (const r of trx) {
    const list = byTerritory.get(String(r.territory_id)) ?? []
    list.push({ id: String(r.account_id), recent: Number(r.trx_recent) })
    byTerritory.set(String(r.territory_id), list)
  }
  const rank = new Map<string, { rank: number; of: number }>()
  for (const list of byTerritory.values()) {
    list.sort((a, b) => b.recent - a.recent || a.id.localeCompare(b.id))
    for (const [i, e] of list.entries()) rank.set(e.id, { rank: i + 1, of: list.length })
  }
  return trx.map((r) => {
    const id = String(r.account_id)
    const recent = Number(r.trx_recent)
    const prior = Number(r.trx_prior)
    const { label, pct } = trendOf(recent, prior)
    const { rank: k, of } = rank.get(id) ?? { rank: 0, of: 0 }
    const lc = lastCall.get(id) ?? null
    const change = pct === null ? '' : ` (${pct >= 0 ? '+' : ''}${pct}%)`
    return {
      accountId: id,
      fields: {
        NL2Q_Insights__c: `TRx last 13 weeks ${recent} vs prior ${prior}${change}; rank ${k} of ${of} in territory; last call ${lc ?? 'none'} (as of ${asOf})`,
        Prescribing_Trend__c: label,
        Recommended_Message__c: recommend(label, pct, k, lc, asOf),
        Last_Analysis_Date__c: asOf,
      },
    }
  })
}
