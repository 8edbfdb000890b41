/**
 * Cancellation across stateless requests. A 2025-era client cancels by POSTing
 * `notifications/cancelled` with the id of its earlier request; with no sessions that POST reaches
 * a fresh server instance, so the hub keeps the in-flight requests of each credential here and aborts
 * the one named. Scoped by credential: a caller can only cancel its own requests.
 */
export class InFlightRequests {
  private readonly byKey = new Map<string, Set<AbortController>>()

  private static key(credentialId: string, requestId: unknown): string {
    return `${credentialId}\u0000${JSON.stringify(requestId)}`
  }

  /** Track one request; returns its cancellation signal and a release to call when it has finished. */
  track(credentialId: string, requestId: unknown): { signal: AbortSignal; release(): void } {
    const key = InFlightRequests.key(credentialId, requestId)
    const controller = new AbortController()
    let set = this.byKey.get(key)
    if (!set) {
      set = new Set()
      this.byKey.set(key, set)
    }
    set.add(controller)
    return {
      signal: controller.signal,
      release: () => {
        const current = this.byKey.get(key)
        current?.delete(controller)
        if (current?.size === 0) this.byKey.delete(key)
      },
    }
  }

  /** Abort the caller's in-flight request with this id; returns how many were aborted. */
  cancel(credentialId: string, requestId: unknown, reason?: string): number {
    const set = this.byKey.get(InFlightRequests.key(credentialId, requestId))
    if (!set) return 0
    for (const controller of set) controller.abort(new Error(reason ?? 'cancelled by the client'))
    return set.size
  }

  get size(): number {
    return this.byKey.size
  }
}

interface JsonRpcShape {
  id?: unknown
  method?: unknown
  params?: { requestId?: unknown; reason?: unknown }
}

/** The request ids and the cancellations a POST body carries (a message or a legacy batch). */
export function inspectBody(body: unknown): {
  requestIds: unknown[]
  cancels: { requestId: unknown; reason?: string }[]
} {
  const messages = (Array.isArray(body) ? body : [body]).filter(
    (m): m is JsonRpcShape => typeof m === 'object' && m !== null,
  )
  const requestIds: unknown[] = []
  const cancels: { requestId: unknown; reason?: string }[] = []
  for (const m of messages) {
    if (typeof m.method !== 'string') continue
    if (m.id !== undefined && m.id !== null) requestIds.push(m.id)
    else if (m.method === 'notifications/cancelled' && m.params?.requestId !== undefined) {
      cancels.push({
        requestId: m.params.requestId,
        ...(typeof m.params.reason === 'string' ? { reason: m.params.reason } : {}),
      })
    }
  }
  return { requestIds, cancels }
}
