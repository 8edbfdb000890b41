import {
  bridgePaths,
  datedBy,
  describeBridge,
  isFact,
  reachableFrom,
  rootsReaching,
} from '../model/join-graph.ts'
import type { SemanticModel } from '../model-types.ts'
import type { PlanBridge } from '../plan.ts'
import type { Intent, ValueGroup } from './intent.ts'
import type { ValueHow } from './lexicon.ts'
import { ambiguous, unanswerable } from './refuse.ts'

/**
 * Which table the facts come FROM, and which column each mentioned value filters. The root must
 * reach every mentioned dataset along many-to-one foreign keys; a value that appears in several
 * columns goes to the one closest to the root (fewest joins), then to exact over derived matches.
 */
export interface Column {
  dataset: string
  field: string
}

const HOW_RANK: Record<ValueHow, number> = { synonym: 0, exact: 0, code: 1, person: 1, fuzzy: 2 }

/** Columns every value of the group may belong to, with the best match kind per column. */
export function groupColumns(g: ValueGroup): { col: Column; how: number; prio: number }[] {
  let common: Map<string, { col: Column; how: number; prio: number }> | undefined
  for (const v of g.values) {
    const here = new Map<string, { col: Column; how: number; prio: number }>()
    for (const c of v.cands) {
      if (c.concept.type !== 'value') continue
      const key = `${c.concept.dataset}.${c.concept.field}`
      const how = HOW_RANK[c.concept.how]
      const prev = here.get(key)
      if (!prev || how < prev.how)
        here.set(key, { col: { dataset: c.concept.dataset, field: c.concept.field }, how, prio: c.prio })
    }
    if (!common) common = here
    else {
      for (const k of [...common.keys()]) {
        const h = here.get(k)
        const c = common.get(k)
        if (!h || !c) common.delete(k)
        else common.set(k, { ...c, how: Math.max(c.how, h.how) })
      }
    }
  }
  let cols = [...(common?.values() ?? [])]
  if (g.hintField) {
    const hf = g.hintField
    cols = cols.filter((c) => c.col.dataset === hf.dataset && c.col.field === hf.field)
  } else if (g.hintDataset && cols.some((c) => c.col.dataset === g.hintDataset))
    cols = cols.filter((c) => c.col.dataset === g.hintDataset)
  return cols
}

function pickColumn(model: SemanticModel, g: ValueGroup, from: string | undefined): Column | undefined {
  const cols = groupColumns(g)
  const reach = from ? reachableFrom(model, from) : undefined
  const score = (c: { col: Column; how: number; prio: number }) => {
    const path = reach?.get(c.col.dataset)
    return [path ? 0 : 1, path?.length ?? 9, c.how, -c.prio]
  }
  cols.sort((a, b) => {
    const sa = score(a)
    const sb = score(b)
    for (let k = 0; k < sa.length; k++) if ((sa[k] ?? 0) !== (sb[k] ?? 0)) return (sa[k] ?? 0) - (sb[k] ?? 0)
    return 0
  })
  const best = cols[0]
  if (!best) return undefined
  if (reach && !reach.has(best.col.dataset)) return from ? undefined : best.col
  return best.col
}

export interface RootChoice {
  root: string
  columns: Column[]
  /** One-to-many joins to grouped entities the root reaches only through a bridge dimension. */
  bridges: PlanBridge[]
}

/**
 * `anchor`: the dataset the question is about (the measures' table, or the counted/listed entity).
 * `fixed`: the measures come from this table, so it must be the root.
 */
export function chooseRoot(
  model: SemanticModel,
  intent: Intent,
  required: Set<string>,
  anchor: string | undefined,
  fixed: string | undefined,
  needsTime: boolean,
  bridgeable: ReadonlySet<string> = new Set(),
): RootChoice {
  // first guess for each value's column: the one closest to the anchor
  const guess = intent.values.map((g) => pickColumn(model, g, anchor) ?? pickColumn(model, g, undefined))
  intent.values.forEach((g, k) => {
    if (!guess[k])
      throw unanswerable(`I can't tell which column "${g.values.map((v) => v.text).join(', ')}" belongs to.`)
  })
  let all = new Set([...required, ...guess.map((c) => (c as Column).dataset)])
  // "NRx by rep": no table reaches both; the grouped entity joins through a bridge dimension
  const bridged = new Set<string>()
  if (
    !(fixed ? [...all].every((d) => reachableFrom(model, fixed).has(d)) : rootsReaching(model, all).length)
  ) {
    for (const b of bridgeable) if (all.has(b)) bridged.add(b)
    const rest = new Set([...all].filter((d) => !bridged.has(d)))
    const ok = (r: string) => [...bridged].every((b) => bridgePaths(model, r, b).length > 0)
    if (bridged.size && (fixed ? ok(fixed) : rootsReaching(model, rest).some(ok))) all = rest
    else bridged.clear()
  }
  let root = fixed
  if (!root) {
    let cands = rootsReaching(model, all)
    if (bridged.size)
      cands = cands.filter((r) => [...bridged].every((b) => bridgePaths(model, r, b).length > 0))
    if (cands.length === 0) throw unanswerable(describeUnrelated(model, all))
    if (anchor && cands.includes(anchor) && (!needsTime || hasTime(model, anchor))) root = anchor
    else {
      if (needsTime) cands = cands.filter((d) => hasTime(model, d))
      const verbs = cands.filter((d) => intent.verbs.includes(d))
      if (verbs.length) cands = verbs
      if (cands.length === 0) throw unanswerable(describeNoTime(model, anchor))
      const weak = cands.filter((d) => intent.weakVerbs.includes(d))
      if (cands.length > 1 && weak.length === 1) cands = weak
      if (cands.length > 1 && needsTime && anchor && !intent.verbs.length && !intent.relverb) {
        const names = cands.map((c) => model.datasets.find((d) => d.name === c)?.pluralLabel ?? c)
        throw ambiguous(
          `${label(model, anchor)} have no date of their own; say which activity the period applies to (${names.join(' or ')}).`,
        )
      }
      const defaultDs = model.defaultMeasure?.split('.')[0]
      cands.sort((a, b) => rank(model, b, defaultDs) - rank(model, a, defaultDs) || a.localeCompare(b))
      root = cands[0] as string
    }
  }
  // "number of HCPs by rep": linking through a fact no word names (calls: HCPs the rep called)
  // competes with the dimension bridge (HCPs in the rep's territory) — refuse with both readings
  if (!bridged.size && !required.has(root) && isFact(model, root)) {
    for (const b of bridgeable) {
      const rest = [...all].filter((d) => d !== b)
      for (const r of rest.length ? rootsReaching(model, rest) : []) {
        if (isFact(model, r) && !required.has(r)) continue
        const paths = bridgePaths(model, r, b)
        if (!paths.length) continue
        throw ambiguous(
          `${label(model, r)} link to ${label(model, b)} in several ways (${paths.map((p) => describeBridge(r, p)).join('; ')}; or through ${label(model, root)}); say which, e.g. with a verb like "called".`,
        )
      }
    }
  }
  const bridges: PlanBridge[] = []
  for (const b of bridged) {
    const paths = bridgePaths(model, root, b)
    if (paths.length > 1)
      throw ambiguous(
        `${label(model, b)} link to ${label(model, root)} in several ways (${paths.map((p) => describeBridge(root, p)).join('; ')}); ask for one of them.`,
      )
    const last = paths[0]?.at(-1)
    if (last) bridges.push(last)
  }
  const reach = reachableFrom(model, root)
  for (const d of all) {
    if (!reach.has(d)) throw unanswerable(describeUnrelated(model, new Set([root, d])))
  }
  const columns = intent.values.map((g, k) => {
    const c = pickColumn(model, g, root) ?? guess[k]
    if (!c || !reach.has(c.dataset))
      throw unanswerable(
        `I can't relate "${g.values.map((v) => v.text).join(', ')}" to ${label(model, root)}.`,
      )
    return c
  })
  return { root, columns, bridges }
}

function rank(model: SemanticModel, name: string, defaultDs: string | undefined): number {
  const ds = model.datasets.find((d) => d.name === name)
  const measures = ds?.fields.filter((f) => f.kind === 'measure').length ?? 0
  return (name === defaultDs ? 100 : 0) + measures
}

function hasTime(model: SemanticModel, name: string): boolean {
  return !!datedBy(model, name)
}

function label(model: SemanticModel, name: string): string {
  return model.datasets.find((d) => d.name === name)?.pluralLabel ?? name
}

function describeUnrelated(model: SemanticModel, datasets: Set<string>): string {
  return `I can't combine ${[...datasets].map((d) => label(model, d)).join(' and ')} in one answer: no table links them.`
}

function describeNoTime(model: SemanticModel, anchor: string | undefined): string {
  return `${anchor ? label(model, anchor) : 'These records'} have no date to filter by.`
}
