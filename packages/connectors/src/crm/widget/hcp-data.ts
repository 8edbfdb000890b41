import type { BoundHub, ConnectorState, PlanFilter, QueryPlan } from '@nl2q/core'
import { HubError, QueryPlanSchema } from '@nl2q/core'
import { z } from 'zod'

/** Weeks in the TRx trend. */
export const TREND_WEEKS = 26
const RECENT_CALLS = 5

const plan = (p: Partial<QueryPlan> & { dataset: string }): QueryPlan => QueryPlanSchema.parse(p)
const eq = (field: string, value: string): PlanFilter => ({ op: 'eq', field, value })
const and = (...args: PlanFilter[]): PlanFilter => ({ op: 'and', args })

export const HcpCardSchema = z.object({
  hcpId: z.string(),
  name: z.string(),
  specialty: z.string(),
  city: z.string(),
  state: z.string(),
  segment: z.string(),
  territoryId: z.string(),
  territory: z.string(),
})

export interface HcpCard {
  hcpId: string
  name: string
  specialty: string
  city: string
  state: string
  segment: string
  territoryId: string
  territory: string
}

/**
 * The HCP a credential names (its hcp_id or its CRM account id), read as the caller: an HCP outside
 * the caller's territories is simply not found, so a session can never be bound to one.
 */
export async function findHcp(hub: BoundHub, ref: string): Promise<HcpCard> {
  const result = await hub.query(
    plan({
      dataset: 'hcps',
      select: [
        { field: 'hcps.hcp_id', as: 'hcp_id' },
        { field: 'hcps.first_name', as: 'first_name' },
        { field: 'hcps.last_name', as: 'last_name' },
        { field: 'hcps.specialty', as: 'specialty' },
        { field: 'hcps.city', as: 'city' },
        { field: 'hcps.state', as: 'state' },
        { field: 'hcps.segment', as: 'segment' },
        { field: 'hcps.territory_id', as: 'territory_id' },
        { field: 'territories.territory_name', as: 'territory' },
      ],
      filter: { op: 'or', args: [eq('hcps.hcp_id', ref), eq('hcps.crm_account_id', ref)] },
      limit: 1,
    }),
  )
  const row = result.rows[0]
  if (!row)
    throw new HubError('FORBIDDEN', 'This HCP is not in your territories, or does not exist', {
      details: { reason: 'hcp_not_visible' },
    })
  const [hcpId, first, last, specialty, city, state, segment, territoryId, territory] = row.map((v) =>
    String(v ?? ''),
  )
  return {
    hcpId: hcpId!,
    name: `${first} ${last}`,
    specialty: specialty!,
    city: city!,
    state: state!,
    segment: segment!,
    territoryId: territoryId!,
    territory: territory!,
  }
}

const isoDay = (d: Date) => d.toISOString().slice(0, 10)
const weeksBefore = (day: string, weeks: number) =>
  isoDay(new Date(Date.parse(`${day}T00:00:00Z`) - weeks * 7 * 86_400_000))

function saturdayOnOrBefore(day: string): string {
  const d = new Date(`${day}T00:00:00Z`)
  return isoDay(new Date(d.getTime() - ((d.getUTCDay() + 1) % 7) * 86_400_000))
}

/** The last week with data for this HCP (or `asOf`): the trend ends there. */
async function lastWeek(hub: BoundHub, hcpId: string, asOf: string | undefined): Promise<string | undefined> {
  const result = await hub.query(
    plan({
      dataset: 'prescriptions',
      select: [{ field: 'prescriptions.week_ending', as: 'week_ending' }],
      filter: asOf
        ? and(eq('prescriptions.hcp_id', hcpId), {
            op: 'lte',
            field: 'prescriptions.week_ending',
            value: asOf,
          })
        : eq('prescriptions.hcp_id', hcpId),
      order: [{ by: 'week_ending', direction: 'desc' }],
      limit: 1,
    }),
  )
  const v = result.rows[0]?.[0]
  return v === undefined || v === null ? undefined : String(v).slice(0, 10)
}

export interface Trend {
  weeks: string[]
  /** TRx per product, one value per week (0 when the HCP wrote none that week). */
  products: { product: string; trx: number[] }[]
}

async function trend(hub: BoundHub, hcpId: string, from: string, to: string): Promise<Trend> {
  const result = await hub.query(
    plan({
      dataset: 'prescriptions',
      measures: [{ field: 'prescriptions.trx', aggregation: 'sum', as: 'trx' }],
      dimensions: [
        { field: 'prescriptions.week_ending', as: 'week_ending' },
        { field: 'products.product_name', as: 'product' },
      ],
      filter: and(eq('prescriptions.hcp_id', hcpId), {
        op: 'between',
        field: 'prescriptions.week_ending',
        values: [from, to],
      }),
      order: [{ by: 'week_ending', direction: 'asc' }],
      limit: TREND_WEEKS * 10,
    }),
  )
  const weeks: string[] = []
  for (let i = TREND_WEEKS - 1; i >= 0; i--) weeks.push(weeksBefore(to, i))
  const byProduct = new Map<string, number[]>()
  for (const [week, product, trx] of result.rows) {
    const at = weeks.indexOf(String(week).slice(0, 10))
    if (at < 0) continue
    const name = String(product)
    const values = byProduct.get(name) ?? new Array<number>(weeks.length).fill(0)
    values[at] = Number(trx)
    byProduct.set(name, values)
  }
  return { weeks, products: [...byProduct].map(([product, trx]) => ({ product, trx })) }
}

/** The HCP's TRx rank among the territory's HCPs over the trend's weeks (1 = highest). */
async function rank(hub: BoundHub, card: HcpCard, from: string, to: string) {
  const result = await hub.query(
    plan({
      dataset: 'prescriptions',
      measures: [{ field: 'prescriptions.trx', aggregation: 'sum', as: 'trx' }],
      dimensions: [{ field: 'hcps.hcp_id', as: 'hcp_id' }],
      filter: and(eq('hcps.territory_id', card.territoryId), {
        op: 'between',
        field: 'prescriptions.week_ending',
        values: [from, to],
      }),
      order: [{ by: 'trx', direction: 'desc' }],
      limit: 5000,
    }),
  )
  const at = result.rows.findIndex((r) => r[0] === card.hcpId)
  return {
    rank: at < 0 ? null : at + 1,
    of: result.rows.length,
    trx: at < 0 ? 0 : Number(result.rows[at]?.[1]),
  }
}

async function recentCalls(hub: BoundHub, hcpId: string) {
  const result = await hub.query(
    plan({
      dataset: 'calls',
      select: [
        { field: 'calls.call_date', as: 'date' },
        { field: 'calls.channel', as: 'channel' },
        { field: 'calls.status', as: 'status' },
        { field: 'products.product_name', as: 'product' },
      ],
      filter: eq('calls.hcp_id', hcpId),
      order: [{ by: 'date', direction: 'desc' }],
      limit: RECENT_CALLS,
    }),
  )
  return result.rows.map(([date, channel, status, product]) => ({
    date: String(date).slice(0, 10),
    channel: String(channel),
    status: String(status),
    product: product === null || product === undefined ? null : String(product),
  }))
}

/**
 * Insights the CRM sync pushed for this HCP: state table `insights`, row id = hcp_id, value
 * `{ items: [{ title, text, at? }] }` (written by the sync job). Absent or unreadable → none.
 */
const InsightsSchema = z.object({
  items: z
    .array(
      z.object({ title: z.string().max(200), text: z.string().max(2000), at: z.string().max(40).optional() }),
    )
    .max(20),
})

async function insights(state: ConnectorState, hcpId: string) {
  const parsed = InsightsSchema.safeParse(await state.table('insights').get(hcpId))
  return parsed.success ? parsed.data.items : []
}

/** Everything the sidebar shows for one HCP, each read audited as the session's principal. */
export async function hcpOverview(
  hub: BoundHub,
  state: ConnectorState,
  card: HcpCard,
  asOf: string | undefined,
) {
  // with a reference date the window is known (weeks end on Saturdays); else it ends at the HCP's data
  const to = asOf ? saturdayOnOrBefore(asOf) : await lastWeek(hub, card.hcpId, asOf)
  const from = to ? weeksBefore(to, TREND_WEEKS - 1) : undefined
  const [t, r, calls, notes] = await Promise.all([
    to && from ? trend(hub, card.hcpId, from, to) : Promise.resolve({ weeks: [], products: [] }),
    to && from ? rank(hub, card, from, to) : Promise.resolve({ rank: null, of: 0, trx: 0 }),
    recentCalls(hub, card.hcpId),
    insights(state, card.hcpId),
  ])
  return { hcp: card, trend: t, rank: r, calls, insights: notes }
}
