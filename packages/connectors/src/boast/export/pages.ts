import type { BoundHub, PlanFilter, QueryPlan, QueryResult } from '@nl2q/core'

/**
 * The plan's rows page by page. A plain row listing whose dataset has a one-column key it selects
 * (and that is not ordered otherwise) is read by keyset — `key > last` ordered by the key, each page
 * an audited `hub.query` — so every page costs the same however deep it is, as the OData feed does;
 * anything else goes through `hub.stream` (offset pages ordered by every output).
 */
export async function* planPages(
  hub: BoundHub,
  plan: QueryPlan,
  pageSize: number,
  signal: AbortSignal,
): AsyncGenerator<QueryResult> {
  const key = await keysetColumn(hub, plan)
  if (!key) {
    yield* hub.stream(plan, { pageSize, signal })
    return
  }
  let last: unknown
  for (let page = 0; page < 10_000_000; page++) {
    const after: PlanFilter | null =
      last === undefined ? null : { op: 'gt', field: key.field, value: last as string | number }
    const filter =
      plan.filter && after ? { op: 'and' as const, args: [plan.filter, after] } : (after ?? plan.filter)
    const result = await hub.query(
      { ...plan, filter, order: [{ by: key.as, direction: 'asc' }], limit: pageSize },
      { signal },
    )
    if (result.rowCount === 0) return
    yield result
    const index = result.columns.findIndex((c) => c.name === key.as)
    last = result.rows.at(-1)?.[index]
    if (last === undefined || last === null) return
  }
}

async function keysetColumn(hub: BoundHub, plan: QueryPlan): Promise<{ field: string; as: string } | null> {
  const plain =
    plan.measures.length === 0 &&
    plan.dimensions.length === 0 &&
    plan.select.length > 0 &&
    plan.limit === null &&
    plan.offset === 0 &&
    !plan.distinct &&
    !plan.having &&
    !plan.rollup &&
    !plan.rankWithin &&
    !plan.change &&
    !plan.share &&
    !plan.bridges?.length
  if (!plain) return null
  const summary = await hub.dataset(plan.dataset)
  if (summary.primaryKey.length !== 1) return null
  const field = `${plan.dataset}.${summary.primaryKey[0]}`
  const selected = plan.select.find((s) => s.field === field)
  if (!selected) return null
  const ordered =
    plan.order.length === 0 ||
    (plan.order.length === 1 && plan.order[0]?.by === selected.as && plan.order[0].direction === 'asc')
  return ordered ? { field, as: selected.as } : null
}
