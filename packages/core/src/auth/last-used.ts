import type { MetadataStore } from '../metadata/store.ts'

/**
 * `last_used_at` is a hint for admins, not a security control: written at most once per interval
 * per key by this process, and the conditional UPDATE keeps other replicas from writing it too.
 */
export function createLastUsedTracker(metadata: MetadataStore, intervalMs = 60_000) {
  const written = new Map<string, number>()
  return {
    async touch(id: string, now = Date.now()): Promise<boolean> {
      const last = written.get(id)
      if (last !== undefined && now - last < intervalMs) return false
      written.set(id, now)
      if (written.size > 10_000) written.delete(written.keys().next().value as string)
      const threshold = new Date(now - intervalMs).toISOString()
      try {
        await metadata
          .knex('api_keys')
          .where({ id })
          .andWhere((q) => q.whereNull('last_used_at').orWhere('last_used_at', '<', threshold))
          .update({ last_used_at: new Date(now).toISOString() })
        return true
      } catch {
        // A usage hint must not fail the request; try again on the next one.
        written.delete(id)
        return false
      }
    },
  }
}
