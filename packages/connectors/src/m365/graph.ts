import {
  AuthenticationHandler,
  Client,
  type Context,
  type Middleware,
  RedirectHandler,
  RetryHandler,
  RetryHandlerOptions,
  TelemetryHandler,
} from '@microsoft/microsoft-graph-client'
import type { Fetch } from './transport.ts'

/** The last link of the client's middleware chain: its request through our TLS-pinned fetch. */
class FetchHandler implements Middleware {
  constructor(private readonly fetch: Fetch) {}
  async execute(context: Context): Promise<void> {
    context.response = await this.fetch(String(context.request), context.options as RequestInit)
  }
}

export interface GraphClientOptions {
  /** `https://graph.microsoft.com` or an emulator; its host joins `customHosts` when not Graph's own. */
  graphUrl: string
  fetch: Fetch
  accessToken(): Promise<string>
  /** RetryHandler: attempts on 429/503/504, honouring Retry-After (capped by the client at 180 s). */
  maxRetries?: number
  /** Give up instead of retrying when the server asks to wait longer than this (a sign-in cannot wait). */
  maxRetryAfterSec?: number
}

/** RetryHandler's `shouldRetry`: only when the server's Retry-After (if any) fits the caller's patience. */
function patientUpTo(maxSec: number | undefined) {
  return (_delay: number, _attempt: number, _req: unknown, _opts: unknown, res: Response): boolean => {
    if (maxSec === undefined) return true
    const header = res.headers.get('Retry-After')
    if (header === null) return true
    const seconds = Number.isNaN(Number(header)) ? (Date.parse(header) - Date.now()) / 1000 : Number(header)
    return seconds <= maxSec
  }
}

/**
 * A Graph client with the library's own middleware (auth header only for Graph hosts, RetryHandler
 * with Retry-After, redirects, telemetry) ending in our fetch. Upload-session URLs live on other
 * hosts (SharePoint), so they get no Authorization header, as Graph requires.
 */
export function graphClient(options: GraphClientOptions): Client {
  const base = new URL(options.graphUrl)
  const authProvider = { getAccessToken: () => options.accessToken() }
  const chain: Middleware[] = [
    new AuthenticationHandler(authProvider),
    new RetryHandler(
      new RetryHandlerOptions(1, options.maxRetries ?? 3, patientUpTo(options.maxRetryAfterSec)),
    ),
    new RedirectHandler(),
    new TelemetryHandler(),
    new FetchHandler(options.fetch),
  ]
  return Client.initWithMiddleware({
    middleware: chain,
    baseUrl: base.origin,
    defaultVersion: 'v1.0',
    customHosts: new Set([base.hostname]),
  })
}
