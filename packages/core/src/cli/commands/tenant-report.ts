import type { BoundHub } from '../../connectors/bound-hub.ts'
import type { Engine } from '../../engine/index.ts'
import { formatPolicyReport, policyReport } from '../../engine/policy-report.ts'
import { answerableExamples, matchingBundledModel } from '../../tenants/onboarding.ts'

/**
 * Print which row rules reach each dataset of the tenant, and how; warnings go to stderr too, so
 * they are seen when stdout is piped. Returns the datasets no rule can reach.
 */
export function printPolicyReach(model: Parameters<typeof policyReport>[0]): string[] {
  process.stdout.write('relationships:\n')
  for (const j of model.joins)
    process.stdout.write(
      `  ${j.from.dataset}.${j.from.columns.join(',')} → ${j.to.dataset}.${j.to.columns.join(',')}${j.inferred ? '  (inferred: not declared; from names, types and sampled values)' : ''}\n`,
    )
  if (model.joins.length === 0) process.stdout.write('  (none)\n')
  const report = policyReport(model)
  for (const line of formatPolicyReport(report)) {
    process.stdout.write(`${line}\n`)
    if (line.startsWith('WARNING:')) process.stderr.write(`${line}\n`)
  }
  return report.unreachable
}

/**
 * The model's datasets, a bundled model the schema looks like, and examples that ran — through
 * `hub`, the audited hub bound to the local operator (channel cli), so every example read is audited.
 */
export async function describeNewTenant(
  engine: Engine,
  hub: BoundHub,
  id: string,
  model: string | undefined,
): Promise<void> {
  const out: string[] = []
  const bundled = model ? null : matchingBundledModel(engine.model)
  if (bundled) {
    out.push(
      `hint: these tables look like the ${bundled} schema; its vocabulary and row policy come with --model ${bundled}:`,
      `  hub tenant set-model ${id} ${bundled}`,
    )
  }
  out.push('datasets:')
  for (const d of await hub.datasets()) out.push(`  ${d.name.padEnd(24)} ${d.description}`)
  const examples = await answerableExamples(hub)
  if (examples.length > 0) {
    out.push('try (each answered on this data just now):')
    for (const e of examples) out.push(`  hub ask --tenant ${id} "${e.question}"`)
  }
  process.stdout.write(`${out.join('\n')}\n`)
}
