import type { Logger } from 'pino'
import type { Principal } from '../principal.ts'
import type { Services } from './services.ts'

/** Typed context variables, set by the shared middleware (request id → auth → rate limit). */
declare module 'hono' {
  interface ContextVariableMap {
    requestId: string
    /** Client address after the trusted-proxy rule for X-Forwarded-For. */
    clientIp: string
    log: Logger
    services: Services
    /** Aborts when the client disconnects or the request timeout expires; pass it to queries. */
    signal: AbortSignal
    /** Set by the auth middleware; routes behind it can rely on it. */
    principal: Principal
  }
}
