import { HubError } from '../errors.ts'
import type { Principal } from '../principal.ts'
import type { Dataset, Field, SemanticModel } from './model-types.ts'
import { bindingRules, resolveRowScopes } from './policy.ts'

/**
 * What a principal may see of a tenant's model: columns by role, datasets by whether the row
 * policies that bind the principal can scope them. Every door reads through `visibleModel`.
 */

/** May the principal see this field? Hidden fields and fields whose roles exclude the principal are out. */
export function fieldVisible(field: Field, principal: Principal): boolean {
  if (field.hidden) return false
  if (field.roles && !principal.roles.some((r) => field.roles?.includes(r))) return false
  return true
}

/** A dataset the principal may not see because no row policy binding it can scope its rows. */
export interface WithheldDataset {
  dataset: string
  table: string
  /** The client-facing refusal. */
  message: string
}

/**
 * Fail closed: when row policies bind the principal, a dataset is visible only if the engine can
 * scope it — it is named by a binding rule or reaches one of their datasets along foreign keys
 * (exactly the datasets `resolveRowScopes` restricts) — or the model declares it `unrestricted`
 * reference data. Everything else is withheld: reading it would return rows no policy filtered
 * (e.g. when introspection found no foreign keys). Principals no rule binds see every dataset.
 */
export function withheldDatasets(model: SemanticModel, principal: Principal): WithheldDataset[] {
  const rules = bindingRules(model, principal)
  if (rules.length === 0) return []
  const scopes = resolveRowScopes(model, principal)
  const policyTables = [...new Set(rules.map((r) => r.dataset))].sort().join(', ')
  return model.datasets
    .filter((d) => !d.hidden && !d.unrestricted && !scopes[d.name])
    .map((d) => ({
      dataset: d.name,
      table: d.table,
      message: `The dataset '${d.name}' cannot be scoped by the row policy that applies to you (no foreign-key path from it to ${policyTables}), so it is withheld; an admin can add the foreign key or declare the dataset unrestricted`,
    }))
}

/** The refusal for a read that names a withheld dataset (every door gives the same one). */
export function withheldError(w: WithheldDataset): HubError {
  return new HubError('FORBIDDEN', w.message, {
    details: { dataset: w.dataset, reason: 'row_policy_unreachable' },
  })
}

/**
 * What the engine caches a principal's view by: its roles (column visibility) and the rules that
 * bind it (which datasets are withheld). Attribute values do not change visibility, only row scopes.
 */
export function viewKey(model: SemanticModel, principal: Principal): string {
  const roles = [...new Set(principal.roles)].sort().join(',')
  const bound = model.rowPolicies.flatMap((r, i) =>
    bindingRules(model, principal).includes(r) ? [String(i)] : [],
  )
  return `${roles}|${bound.join(',')}`
}

/**
 * The model as the principal may see it: `roleVisibleModel` minus the datasets a binding row policy
 * cannot scope (`withheldDatasets`), and the joins to them. Every door (ask, query, OData, MCP,
 * guarded SQL, dataset listings) reads through this view.
 */
export function visibleModel(model: SemanticModel, principal: Principal): SemanticModel {
  const roleView = roleVisibleModel(model, principal)
  const withheld = new Set(withheldDatasets(model, principal).map((w) => w.dataset))
  if (withheld.size === 0) return roleView
  return {
    ...roleView,
    datasets: roleView.datasets.filter((d) => !withheld.has(d.name)),
    joins: roleView.joins.filter((j) => !withheld.has(j.from.dataset) && !withheld.has(j.to.dataset)),
  }
}

/**
 * The model by role alone: hidden datasets, hidden fields and fields reserved to other roles are
 * gone (so they are simply unknown downstream), as are derived measures over them and joins to
 * vanished datasets. Row policies stay: they are resolved on the full model. Only the NL planner
 * uses this directly (so that a question about a withheld dataset is refused by name, not
 * misunderstood); reads go through `visibleModel`.
 */
export function roleVisibleModel(model: SemanticModel, principal: Principal): SemanticModel {
  const datasets: Dataset[] = []
  for (const d of model.datasets) {
    if (d.hidden) continue
    let fields = d.fields.filter((f) => fieldVisible(f, principal))
    // Drop derived measures whose operands are gone, until stable (derived over derived).
    for (let changed = true; changed; ) {
      const names = new Set(fields.map((f) => f.name))
      const next = fields.filter(
        (f) => !f.derived || (names.has(f.derived.left) && names.has(f.derived.right)),
      )
      changed = next.length !== fields.length
      fields = next
    }
    const names = new Set(fields.map((f) => f.column ?? f.name))
    datasets.push({
      ...d,
      fields: fields.map((f) => ({
        ...f,
        synonyms: [...f.synonyms],
        ...(f.roles ? { roles: [...f.roles] } : {}),
      })),
      labelColumns: d.labelColumns.filter((c) => names.has(c)),
      defaultTimeDimension:
        d.defaultTimeDimension && fields.some((f) => f.name === d.defaultTimeDimension)
          ? d.defaultTimeDimension
          : undefined,
      synonyms: [...d.synonyms],
      primaryKey: [...d.primaryKey],
    })
  }
  const kept = new Set(datasets.map((d) => d.name))
  return {
    ...model,
    datasets,
    joins: model.joins.filter((j) => kept.has(j.from.dataset) && kept.has(j.to.dataset)),
    rowPolicies: model.rowPolicies.map((r) => ({ ...r })),
  }
}
