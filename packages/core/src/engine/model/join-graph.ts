import type { Join, SemanticModel } from '../model-types.ts'

/**
 * Join paths along foreign keys, always child → parent (many-to-one), so joining never multiplies
 * the fact rows. Breadth-first in FK-column order: the shortest path wins and ties go to the FK
 * declared first (calls → hcps → territories before calls → reps → territories).
 */
export type JoinStep = Join

const cache = new WeakMap<SemanticModel, Map<string, Map<string, JoinStep[]>>>()
const declared = new WeakMap<SemanticModel, SemanticModel>()

/**
 * The model with only declared relationships (database foreign keys and those listed in the
 * overrides): row policies travel along these alone. An inferred relationship answers questions but
 * never decides whose rows a principal sees — a wrong guess there would leak rows — so a dataset a
 * rule reaches only through one stays withheld until someone confirms it in the overrides file.
 */
export function declaredOnly(model: SemanticModel): SemanticModel {
  if (!model.joins.some((j) => j.inferred)) return model
  let m = declared.get(model)
  if (!m) {
    m = { ...model, joins: model.joins.filter((j) => !j.inferred) }
    declared.set(model, m)
  }
  return m
}

/** Every dataset reachable from `root` (root itself with an empty path) and the path to it. */
export function reachableFrom(model: SemanticModel, root: string): Map<string, JoinStep[]> {
  let perModel = cache.get(model)
  if (!perModel) {
    perModel = new Map()
    cache.set(model, perModel)
  }
  const hit = perModel.get(root)
  if (hit) return hit
  const paths = new Map<string, JoinStep[]>([[root, []]])
  let frontier = [root]
  while (frontier.length > 0) {
    const next: string[] = []
    for (const ds of frontier) {
      const base = paths.get(ds) ?? []
      for (const j of model.joins) {
        if (j.from.dataset !== ds || paths.has(j.to.dataset)) continue
        paths.set(j.to.dataset, [...base, j])
        next.push(j.to.dataset)
      }
    }
    frontier = next
  }
  perModel.set(root, paths)
  return paths
}

export function joinPath(model: SemanticModel, from: string, to: string): JoinStep[] | undefined {
  return reachableFrom(model, from).get(to)
}

/** Datasets from which every one of `targets` is reachable. */
export function rootsReaching(model: SemanticModel, targets: Iterable<string>): string[] {
  const t = [...new Set(targets)]
  return model.datasets
    .filter((d) => !d.hidden && t.every((x) => reachableFrom(model, d.name).has(x)))
    .map((d) => d.name)
}

/**
 * The date that dates a dataset's rows: its own default time dimension, else the nearest parent's
 * along FKs when exactly one parent at that distance has one (order items are dated by their order).
 */
export function datedBy(model: SemanticModel, root: string): { dataset: string; field: string } | undefined {
  const own = model.datasets.find((d) => d.name === root)
  if (own?.defaultTimeDimension) return { dataset: root, field: own.defaultTimeDimension }
  let best: { dataset: string; field: string }[] = []
  let bestLen = Number.POSITIVE_INFINITY
  for (const [name, path] of reachableFrom(model, root)) {
    const d = model.datasets.find((x) => x.name === name)
    if (name === root || !d?.defaultTimeDimension || path.length > bestLen) continue
    if (path.length < bestLen) {
      best = []
      bestLen = path.length
    }
    best.push({ dataset: name, field: d.defaultTimeDimension })
  }
  if (best.length > 1) {
    // order items → orders (an event, no name of its own) rather than → products (a named entity)
    const events = best.filter((b) => !model.datasets.find((d) => d.name === b.dataset)?.labelColumns.length)
    if (events.length === 1) return events[0]
  }
  return best.length === 1 ? best[0] : undefined
}

/** A fact table: it has foreign keys and no dataset references it (prescriptions, calls). */
export function isFact(model: SemanticModel, name: string): boolean {
  return model.joins.some((j) => j.from.dataset === name) && !model.joins.some((j) => j.to.dataset === name)
}

/**
 * Paths from `root` to a dataset it cannot reach many-to-one, through a bridge dimension: up along
 * FKs to a dimension D, then down the one FK `target → D` (prescriptions → hcps → territories ←
 * reps). Only dimension paths count: a fact table (calls) never attributes another fact's rows, and
 * a fact is never the target. The last step is one-to-many, so rows repeat once per target row:
 * only correct when the target's key is a grouping dimension (the compiler checks it).
 */
export function bridgePaths(model: SemanticModel, root: string, target: string): JoinStep[][] {
  const reach = reachableFrom(model, root)
  if (reach.has(target) || isFact(model, target)) return []
  const out: JoinStep[][] = []
  for (const j of model.joins) {
    const up = reach.get(j.to.dataset)
    if (j.from.dataset !== target || !up || j.to.dataset === root) continue
    const pk = model.datasets.find((d) => d.name === j.to.dataset)?.primaryKey ?? []
    const parentCols = j.to.columns.length ? j.to.columns : pk
    out.push([
      ...up,
      {
        from: { dataset: j.to.dataset, columns: parentCols },
        to: { dataset: target, columns: j.from.columns },
      },
    ])
  }
  return out
}

/** A bridge path as text: "prescriptions → hcps → territories ← reps" (the last step is one-to-many). */
export function describeBridge(root: string, path: JoinStep[]): string {
  return path.reduce((text, s, i) => `${text} ${i === path.length - 1 ? '←' : '→'} ${s.to.dataset}`, root)
}
