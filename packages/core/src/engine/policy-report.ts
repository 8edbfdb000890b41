import { declaredOnly, reachableFrom } from './model/join-graph.ts'
import type { RowPolicyRule, SemanticModel } from './model-types.ts'

/**
 * For an operator (`hub tenant add`, `hub tenant check`): which row rules reach each dataset and by
 * which foreign-key path. It mirrors what `resolveRowScopes` and `withheldDatasets` enforce: a
 * dataset reached by no rule is withheld from every principal a rule binds.
 */

export interface RuleReach {
  /** 1-based index of the rule in the model's rowPolicies. */
  rule: number
  /**
   * Datasets from the dataset to the rule's dataset, both included: the shortest FK path. (The
   * policy holds on every path; the shortest is what an operator needs to recognise.)
   */
  path: string[]
}

export interface DatasetReach {
  dataset: string
  /** Declared reference data (`unrestricted: true`): no rule needs to reach it. */
  unrestricted: boolean
  reachedBy: RuleReach[]
}

export interface PolicyReport {
  rules: RowPolicyRule[]
  datasets: DatasetReach[]
  /** Datasets no rule reaches and not declared unrestricted: withheld from every bound principal. */
  unreachable: string[]
}

export function policyReport(model: SemanticModel): PolicyReport {
  const datasets = model.datasets
    .filter((d) => !d.hidden)
    .map((d): DatasetReach => {
      const paths = reachableFrom(declaredOnly(model), d.name)
      const reachedBy: RuleReach[] = []
      model.rowPolicies.forEach((rule, i) => {
        const steps = paths.get(rule.dataset)
        if (steps) reachedBy.push({ rule: i + 1, path: [d.name, ...steps.map((s) => s.to.dataset)] })
      })
      return { dataset: d.name, unrestricted: d.unrestricted === true, reachedBy }
    })
    .sort((a, b) => a.dataset.localeCompare(b.dataset))
  const unreachable =
    model.rowPolicies.length === 0
      ? []
      : datasets.filter((d) => d.reachedBy.length === 0 && !d.unrestricted).map((d) => d.dataset)
  return { rules: model.rowPolicies, datasets, unreachable }
}

function describeRule(rule: RowPolicyRule, n: number): string {
  const who = rule.roles ? `roles ${rule.roles.join(', ')}` : 'every role but admin'
  const optional = rule.in.required === false ? '; only principals carrying the attribute' : ''
  return `  rule ${n}: ${rule.dataset}.${rule.column} in attribute '${rule.in.attribute}' (${who}${optional})`
}

/** The report as lines for a terminal; warnings start with `WARNING:`. */
export function formatPolicyReport(report: PolicyReport): string[] {
  if (report.rules.length === 0)
    return ['row policy: none (every principal with access reads every row of every dataset)']
  const lines = [`row policy: ${report.rules.length} rule(s)`]
  report.rules.forEach((r, i) => {
    lines.push(describeRule(r, i + 1))
  })
  const width = Math.max(...report.datasets.map((d) => d.dataset.length))
  for (const d of report.datasets) {
    const name = d.dataset.padEnd(width)
    if (d.reachedBy.length === 0) {
      lines.push(
        d.unrestricted
          ? `  ${name}  unrestricted (declared reference data; no rule filters it)`
          : `  ${name}  NOT REACHED by any rule: withheld from every principal a rule binds`,
      )
      continue
    }
    // rules that reach the dataset the same way are listed together ("rules 1, 2 via …")
    const byPath = new Map<string, number[]>()
    for (const r of d.reachedBy) {
      const how = `${r.path.join(' → ')} (${report.rules[r.rule - 1]?.column})`
      byPath.set(how, [...(byPath.get(how) ?? []), r.rule])
    }
    const parts = [...byPath].map(
      ([how, rules]) => `rule${rules.length > 1 ? 's' : ''} ${rules.join(', ')} via ${how}`,
    )
    lines.push(`  ${name}  ${parts.join('; ')}`)
  }
  if (report.unreachable.length > 0)
    lines.push(
      `WARNING: ${report.unreachable.length} dataset(s) no row policy can reach: ${report.unreachable.join(', ')}. ` +
        'Principals bound by a rule are refused them (FORBIDDEN). Add the missing foreign key (and check the ' +
        "data user can see it), or mark true reference data 'unrestricted: true' in the model overrides.",
    )
  return lines
}
