import { HubError } from '../errors.ts'

/** The query ran past its deadline (HUB_QUERY_TIMEOUT_MS): 504 QUERY_TIMEOUT. */
export function timedOut(timeoutMs: number, cause?: unknown): HubError {
  return new HubError(
    'QUERY_TIMEOUT',
    `The query ran longer than ${timeoutMs} ms and was stopped; narrow it with filters or aggregate it`,
    { cause },
  )
}

/** The caller went away or its request deadline passed: the reason it gave, else 504 TIMEOUT. */
export function cancelled(reason: unknown): HubError {
  if (reason instanceof HubError) return reason
  return new HubError('TIMEOUT', 'The query was cancelled before it finished', { cause: reason })
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw cancelled(signal.reason)
}
