import type { BoundHub, PlanFilter, QueryPlan } from '@nl2q/core'
import { HubError } from '@nl2q/core'
import { z } from 'zod'

export const AskBodySchema = z.object({ question: z.string().trim().min(1).max(300) }).strict()
/** Rows the sidebar shows: a small table. */
export const ASK_ROWS = 50

/** The fact or entity datasets that name an HCP, and the column that does. */
const HCP_COLUMN: Record<string, string> = {
  prescriptions: 'prescriptions.hcp_id',
  calls: 'calls.hcp_id',
  hcps: 'hcps.hcp_id',
}

/** The plan narrowed to one HCP: its root's hcp_id must equal it, whatever else the question says. */
export function scopeToHcp(plan: QueryPlan, hcpId: string): QueryPlan {
  const column = HCP_COLUMN[plan.dataset]
  if (!column)
    throw new HubError(
      'UNANSWERABLE',
      'The sidebar answers questions about this HCP: ask about their prescriptions or calls',
      {
        details: {
          suggestions: [
            'NRx by product last quarter',
            'TRx by month this year',
            'calls by channel last quarter',
          ],
        },
      },
    )
  const own: PlanFilter = { op: 'eq', field: column, value: hcpId }
  return { ...plan, filter: plan.filter ? { op: 'and', args: [own, plan.filter] } : own }
}

/**
 * The ask box: the question becomes a plan (NL engine, as the session's principal), the plan is
 * narrowed to the session's HCP and run. Both reads are audited; the first is capped at one row.
 */
export async function askAboutHcp(hub: BoundHub, hcpId: string, question: string, asOf: string | undefined) {
  const understood = await hub.ask({ question, limit: 1, ...(asOf ? { asOf } : {}) })
  const plan = scopeToHcp(understood.plan, hcpId)
  const result = await hub.query({ ...plan, limit: Math.min(plan.limit ?? ASK_ROWS, ASK_ROWS) })
  return {
    question: understood.question,
    interpretation: `${understood.interpretation} (this HCP only)`,
    warnings: understood.warnings,
    columns: result.columns,
    rows: result.rows,
    truncated: result.truncated,
  }
}
