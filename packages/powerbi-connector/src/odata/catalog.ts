import type { BoundHub, DatasetSummary } from '@nl2q/core'
import type { SavedQuestion, SavedQuestionStore } from '../saved-questions/store.ts'
import { edmTypeOf } from './edm.ts'
import { datasetEntitySet, type EntitySet } from './entity-sets.ts'

/** The property that numbers a saved question's answer rows (its key). */
export const ROW_NUMBER = 'row_number'

export const savedSetName = (name: string) => `saved_${name}`

/** A saved question as an entity set: its answer's columns, keyed by the row's position. */
export function savedEntitySet(saved: SavedQuestion): EntitySet {
  return {
    name: savedSetName(saved.name),
    label: saved.question,
    kind: 'saved',
    saved: saved.name,
    key: [ROW_NUMBER],
    properties: [
      { name: ROW_NUMBER, source: ROW_NUMBER, type: 'Edm.Int64', nullable: false, label: 'Row' },
      ...saved.columns
        .filter((c) => c.name !== ROW_NUMBER)
        .map((c) => ({
          name: c.name,
          source: c.source,
          type: edmTypeOf(c.type),
          nullable: true,
          label: c.label,
        })),
    ],
  }
}

/**
 * The entity sets a principal may read: every dataset of the tenant's model they may see (as the
 * hub summarises it for them) and every saved question of their tenant.
 */
export interface CatalogSources {
  /** Bound to the reader: its datasets, as its policy shows them. */
  hub: BoundHub
  /** Bound to the reader's tenant. */
  store: SavedQuestionStore
}

/**
 * Entity sets of the datasets, memoised per summary: the engine keeps one summary list per role set,
 * so a page does not rebuild the entity type of its set.
 */
const datasetSets = new WeakMap<DatasetSummary, EntitySet | null>()

function datasetSetOf(d: DatasetSummary): EntitySet | null {
  let set = datasetSets.get(d)
  if (set === undefined) {
    // derived measures (ratios of other measures) exist only aggregated: not entity properties
    set = datasetEntitySet({ ...d, measures: d.measures.filter((m) => !m.derived) })
    datasetSets.set(d, set)
  }
  return set
}

async function datasetCatalog(hub: BoundHub): Promise<EntitySet[]> {
  const sets: EntitySet[] = []
  for (const d of await hub.datasets()) {
    const set = datasetSetOf(d)
    if (set) sets.push(set)
  }
  return sets
}

export async function loadCatalog(sources: CatalogSources): Promise<EntitySet[]> {
  const { hub, store } = sources
  const [sets, saved] = await Promise.all([datasetCatalog(hub), store.list()])
  const names = new Set(sets.map((s) => s.name))
  const out = [...sets]
  for (const q of saved) {
    const set = savedEntitySet(q)
    if (!names.has(set.name)) out.push(set)
  }
  return out
}

/**
 * One set by name, as `loadCatalog` would list it. A dataset set wins over a saved question of the
 * same name there, so the saved questions are only read when no dataset has the name.
 */
export async function findEntitySet(sources: CatalogSources, name: string): Promise<EntitySet | undefined> {
  const dataset = (await datasetCatalog(sources.hub)).find((s) => s.name === name)
  if (dataset) return dataset
  return (await loadCatalog(sources)).find((s) => s.name === name)
}
