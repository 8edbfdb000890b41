export { type RateLimitState, rateLimitHeaders } from './headers.ts'
export {
  createRateLimiter,
  type HubRateLimiter,
  RATE_LIMIT_TABLE,
  type RateLimiterOptions,
} from './limiter.ts'
export { limitFor, type TenantRateSettings, type TenantSettingsSource } from './tenant-limits.ts'
