import { type BoundHub, HubError } from '@nl2q/core'
import type { SavedQuestion } from '../saved-questions/store.ts'
import { ROW_NUMBER } from './catalog.ts'
import { comparableValue } from './edm.ts'
import type { EntityProperty, EntitySet } from './entity-sets.ts'
import { matches, type RowValues, sortRows } from './evaluate.ts'
import { decodeSkipToken, encodeSkipToken, sortKeys } from './keyset.ts'
import { type Page, pageWindow } from './page.ts'
import type { QueryOptions } from './query-options.ts'

/**
 * A page of a saved question: the question is answered afresh through `hub.ask` (plan → policy →
 * compile, as the refreshing principal), then `$filter`, `$orderby`, `$skip`/`$top` and paging
 * narrow that answer. Answers are bounded by the hub's row cap; one that hit it is refused rather
 * than served incomplete.
 */
export interface SavedReadInput {
  hub: BoundHub
  set: EntitySet
  saved: SavedQuestion
  options: QueryOptions
  pageSize: number
  maxRows: number
}

interface AnswerRow {
  values: RowValues
  raw: unknown[]
}

/** The answer of a saved question as rows aligned with the set's properties. */
export async function answerRows(input: Omit<SavedReadInput, 'options' | 'pageSize'>): Promise<AnswerRow[]> {
  const { hub, set, saved, maxRows } = input
  const answer = await hub.ask({
    question: saved.question,
    ...(saved.asOf ? { asOf: saved.asOf } : {}),
    limit: maxRows,
  })
  if (answer.truncated)
    throw new HubError(
      'UNANSWERABLE',
      `The answer to '${saved.name}' has more rows than the hub serves at once (${maxRows}); narrow the question or read the dataset set`,
    )
  const index = new Map(answer.columns.map((c, i) => [c.name, i]))
  return answer.rows.map((row, n) => {
    const raw = set.properties.map((p) =>
      p.name === ROW_NUMBER ? n + 1 : (row[index.get(p.source) ?? -1] ?? null),
    )
    const values: RowValues = {}
    set.properties.forEach((p, i) => {
      values[p.name] = comparableValue(p.type, raw[i])
    })
    return { values, raw }
  })
}

export async function readSavedPage(input: SavedReadInput): Promise<Page> {
  const { set, options, pageSize } = input
  const all = await answerRows(input)
  const filtered = options.filter ? all.filter((r) => matches(options.filter as never, r.values)) : all
  const keys = sortKeys(set, options.orderby)
  const sorted = options.orderby.length > 0 ? sortRows(filtered, keys, (r) => r.values) : filtered
  let start = options.skip
  if (options.skiptoken) start = decodeSkipToken(options.skiptoken, keys).offset ?? 0
  const { take } = pageWindow(pageSize, options.top)
  const slice = sorted.slice(start, start + take)
  const output = options.select
    ? options.select.map((n) => set.properties.find((p) => p.name === n) as EntityProperty)
    : set.properties
  const at = output.map((p) => set.properties.indexOf(p))
  const end = start + slice.length
  const more = end < sorted.length && (options.top === null || options.top > slice.length)
  return {
    properties: output,
    rows: slice.map((r) => r.raw),
    columns: at,
    length: slice.length,
    nextToken: more ? encodeSkipToken(keys, { offset: end }) : null,
    remainingTop: options.top === null ? null : options.top - slice.length,
    count: options.count ? filtered.length : null,
  }
}

/** `/<saved set>/$count`. */
export async function countSaved(input: Omit<SavedReadInput, 'pageSize'>): Promise<number> {
  const all = await answerRows(input)
  const { filter } = input.options
  return filter ? all.filter((r) => matches(filter, r.values)).length : all.length
}
