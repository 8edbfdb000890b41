import type { Client } from '@microsoft/microsoft-graph-client'
import { HubError } from '@nl2q/core'
import { GraphCallError } from './token.ts'

/** Claims that say the token's `groups` list is incomplete (Entra's group overage). */
export function hasGroupOverage(claims: Readonly<Record<string, unknown>>): boolean {
  const names = claims._claim_names
  const overage =
    names !== null && typeof names === 'object' && 'groups' in (names as Record<string, unknown>)
  return overage || claims.hasgroups === true || claims.hasgroups === 'true'
}

/** The `groups` claim's ids, or undefined when the token carries none. */
export function groupsClaim(claims: Readonly<Record<string, unknown>>): string[] | undefined {
  const g = claims.groups
  if (!Array.isArray(g)) return undefined
  return g.filter((x): x is string => typeof x === 'string')
}

/** At most this many pages of transitiveMemberOf (999 a page): a bound, not a realistic size. */
const MAX_PAGES = 50
/** checkMemberGroups takes at most 20 ids a call. */
const CHECK_BATCH = 20

interface Page {
  value?: { id?: unknown }[]
  '@odata.nextLink'?: unknown
}

/** Graph's failure, as a cause a user may read (status and Graph's code, never the token). */
export function graphCause(err: unknown): { status: number | undefined; text: string } {
  if (err instanceof GraphCallError) return { status: err.status, text: err.message }
  const e = err as { statusCode?: unknown; code?: unknown; message?: unknown }
  // The client wraps what its auth provider threw (our token call) in a GraphError named after it.
  if ((e?.code === 'GraphCallError' || e?.code === 'HubError') && typeof e.message === 'string')
    return { status: undefined, text: e.message }
  const status = typeof e?.statusCode === 'number' && e.statusCode > 0 ? e.statusCode : undefined
  const code = typeof e?.code === 'string' ? e.code : undefined
  return {
    status,
    text: status
      ? `Microsoft Graph answered ${status}${code ? ` ${code}` : ''}`
      : 'Microsoft Graph is unreachable',
  }
}

/** Every group the user is a member of, directly or not, following `@odata.nextLink`. */
export async function transitiveGroups(client: Client, userId: string): Promise<Set<string>> {
  const ids = new Set<string>()
  let page = (await client
    .api(`/users/${encodeURIComponent(userId)}/transitiveMemberOf/microsoft.graph.group`)
    .select('id')
    .top(999)
    .get()) as Page
  for (let n = 1; ; n++) {
    for (const item of page.value ?? []) if (typeof item.id === 'string') ids.add(item.id)
    const next = page['@odata.nextLink']
    if (typeof next !== 'string') return ids
    if (n >= MAX_PAGES)
      throw new HubError('FORBIDDEN', `The user is in more groups than the hub reads (${MAX_PAGES} pages)`, {
        details: { reason: 'groups_too_many' },
      })
    page = (await client.api(next).get()) as Page
  }
}

/** Which of `candidates` the user is a member of (transitively), 20 ids per call. */
export async function checkMemberGroups(
  client: Client,
  userId: string,
  candidates: string[],
): Promise<Set<string>> {
  const ids = new Set<string>()
  for (let i = 0; i < candidates.length; i += CHECK_BATCH) {
    const res = (await client
      .api(`/users/${encodeURIComponent(userId)}/checkMemberGroups`)
      .post({ groupIds: candidates.slice(i, i + CHECK_BATCH) })) as { value?: unknown }
    if (!Array.isArray(res.value)) throw new GraphCallError('checkMemberGroups answered without a value', 200)
    for (const id of res.value) if (typeof id === 'string') ids.add(id)
  }
  return ids
}

/** A small TTL cache of resolved memberships, keyed by hub tenant and user; bounded in size. */
export class MembershipCache {
  private readonly entries = new Map<string, { groups: Set<string>; until: number }>()
  constructor(private readonly maxEntries = 10_000) {}

  get(key: string): Set<string> | undefined {
    const hit = this.entries.get(key)
    if (!hit) return undefined
    if (hit.until <= Date.now()) {
      this.entries.delete(key)
      return undefined
    }
    return hit.groups
  }

  set(key: string, groups: Set<string>, ttlMs: number): void {
    if (ttlMs <= 0) return
    this.entries.delete(key)
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next().value
      if (oldest !== undefined) this.entries.delete(oldest)
    }
    this.entries.set(key, { groups, until: Date.now() + ttlMs })
  }

  clear(): void {
    this.entries.clear()
  }
}
