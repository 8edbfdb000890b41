/** One budget as the IETF RateLimit headers describe it (draft-ietf-httpapi-ratelimit-headers). */
export interface RateLimitState {
  /** Policy name: `default` for credentials, `anonymous` for the per-IP budget. */
  policy: string
  limit: number
  remaining: number
  windowSec: number
  /** Seconds until the window resets. */
  resetSec: number
}

/** `RateLimit-Policy: "default";q=100;w=60` and `RateLimit: "default";r=42;t=17`. */
export function rateLimitHeaders(state: RateLimitState): Record<string, string> {
  return {
    'RateLimit-Policy': `"${state.policy}";q=${state.limit};w=${state.windowSec}`,
    RateLimit: `"${state.policy}";r=${Math.max(0, state.remaining)};t=${Math.max(0, state.resetSec)}`,
  }
}
