import type { DatasetSummary } from '@nl2q/core'
import { type EdmType, edmTypeOf } from './edm.ts'

/** One property of an entity type: its OData name, where its values come from, and its Edm type. */
export interface EntityProperty {
  name: string
  /** Dataset sets: the model field name (the plan reads `dataset.field`). Saved sets: the answer column. */
  source: string
  type: EdmType
  nullable: boolean
  label: string
}

/** An entity set of the feed: a dataset of the tenant's model, or a saved question. */
export interface EntitySet {
  name: string
  label: string
  kind: 'dataset' | 'saved'
  /** The dataset a plan reads from (dataset sets). */
  dataset?: string
  /** The saved question's name (saved sets). */
  saved?: string
  properties: EntityProperty[]
  /** Key property names, in order (a stable tie-breaker for paging). */
  key: string[]
}

/** OData SimpleIdentifier, restricted to ASCII so every client and M's `#"…"`-free names work. */
export const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/

/** An identifier-safe name for any label (column names of an answer may contain spaces). */
export function safeIdentifier(raw: string, taken: Set<string> = new Set()): string {
  let base = raw
    .normalize('NFKD')
    .replace(/[^A-Za-z0-9_]+/g, '_')
    .replace(/^_+|_+$/g, '')
  if (base === '') base = 'column'
  if (!/^[A-Za-z_]/.test(base)) base = `_${base}`
  base = base.slice(0, 120)
  let name = base
  for (let i = 2; taken.has(name.toLowerCase()); i++) name = `${base}_${i}`
  taken.add(name.toLowerCase())
  return name
}

function singular(name: string): string {
  return name.replace(/ies$/, 'y').replace(/s$/, '')
}

/**
 * The key of a dataset set: the model's primary key; for a table without one (a view), the
 * key-kind field named like the dataset (`hcps` → `hcp_id`), else the first key-kind field (the
 * introspected primary key comes first in column order).
 */
export function datasetKey(summary: DatasetSummary, names: string[]): string[] {
  if (summary.primaryKey.length > 0 && summary.primaryKey.every((k) => names.includes(k)))
    return [...summary.primaryKey]
  const keys = summary.dimensions.filter((d) => d.kind === 'key').map((d) => d.name)
  const own = keys.find((k) => k === 'id' || k === `${singular(summary.name)}_id`)
  if (own) return [own]
  if (keys[0]) return [keys[0]]
  return names.slice(0, 1)
}

/** A dataset of the model (as the principal may see it) as a flat entity set. */
export function datasetEntitySet(summary: DatasetSummary): EntitySet | null {
  if (!IDENTIFIER.test(summary.name)) return null
  const properties: EntityProperty[] = []
  const seen = new Set<string>()
  const add = (f: { name: string; type: string; label: string; nullable: boolean }) => {
    if (!IDENTIFIER.test(f.name) || seen.has(f.name)) return
    seen.add(f.name)
    properties.push({
      name: f.name,
      source: f.name,
      type: edmTypeOf(f.type),
      nullable: f.nullable,
      label: f.label,
    })
  }
  for (const d of summary.dimensions) add(d)
  for (const m of summary.measures) add(m)
  if (properties.length === 0) return null
  const key = datasetKey(
    summary,
    properties.map((p) => p.name),
  )
  for (const p of properties) if (key.includes(p.name)) p.nullable = false
  return { name: summary.name, label: summary.label, kind: 'dataset', dataset: summary.name, properties, key }
}

export function propertyOf(set: EntitySet, name: string): EntityProperty | undefined {
  return set.properties.find((p) => p.name === name)
}
