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
    new RetryHandler(new RetryHandlerOptions(1, options.maxRetries ?? 3)),
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
