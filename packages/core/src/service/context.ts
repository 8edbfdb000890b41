import type { Logger } from 'pino'
import type { HubError } from '../errors.ts'
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
    /** The error this request was answered with (set by `problemResponse`), for the refusal audit. */
    problem: HubError
    /** Set by the auth middleware; routes behind it can rely on it. */
    principal: Principal
  }
}
