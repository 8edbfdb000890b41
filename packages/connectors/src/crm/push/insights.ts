import type { BoundHub, QueryResult } from '@nl2q/core'
import { HubError } from '@nl2q/core'

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

function rows(result: QueryResult, what: string): Record<string, unknown>[] {
  if (result.truncated)
    throw new HubError(
      'PAYLOAD_TOO_LARGE',
      `The ${what} query hit the hub's row cap (HUB_MAX_ROWS): raise it to push every HCP`,
    )
  const names = result.columns.map((c) => c.name)
  return result.rows.map((r) => Object.fromEntries(names.map((n, i) => [n, r[i]])))
}

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
 * Per-HCP insights computed through the audited engine (guarded SQL, bound to the caller — the
 * integration principal in a job — and so scoped by its policy): TRx over the last 13 weeks vs the
 * prior 13, rank within territory, last completed call, and a rule-based message. `asOf` is the
 * last week of data, so the values (and their hashes) are stable until the data changes.
 */
export async function computeInsights(hub: BoundHub, signal?: AbortSignal): Promise<Insight[]> {
  const opts = signal ? { signal } : {}
  const last = rows(
    await hub.sql({ sql: 'SELECT MAX(week_ending) AS as_of FROM prescriptions' }, opts),
    'as-of',
  )
  const asOfRaw = last[0]?.as_of
  if (!asOfRaw) return []
  const asOf = String(asOfRaw).slice(0, 10)
  const d13 = isoDay(Date.parse(asOf) - 13 * 7 * DAY)
  const d26 = isoDay(Date.parse(asOf) - 26 * 7 * DAY)
  const trx = rows(
    await hub.sql(
      {
        sql:
          `SELECT h.crm_account_id AS account_id, h.territory_id AS territory_id, ` +
          `SUM(CASE WHEN p.week_ending > '${d13}' THEN p.trx ELSE 0 END) AS trx_recent, ` +
          `SUM(CASE WHEN p.week_ending <= '${d13}' THEN p.trx ELSE 0 END) AS trx_prior ` +
          `FROM hcps h JOIN prescriptions p ON p.hcp_id = h.hcp_id ` +
          `WHERE p.week_ending > '${d26}' AND h.crm_account_id IS NOT NULL ` +
          `GROUP BY h.crm_account_id, h.territory_id ORDER BY h.crm_account_id`,
      },
      opts,
    ),
    'TRx',
  )
  const calls = rows(
    await hub.sql(
      {
        sql:
          `SELECT h.crm_account_id AS account_id, MAX(c.call_date) AS last_call FROM hcps h ` +
          `JOIN calls c ON c.hcp_id = h.hcp_id WHERE c.status = 'Completed' GROUP BY h.crm_account_id`,
      },
      opts,
    ),
    'last call',
  )
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
