import type { AddressInfo } from 'node:net'
import { type ServerType, serve } from '@hono/node-server'

/** How long a client may take, and how many may be connected (slow-client protection). */
export interface HttpServerLimits {
  /** The whole request head must arrive within this (a header-trickling client is cut off). */
  headersTimeoutMs: number
  /** The whole request, body included, must arrive within this. */
  requestTimeoutMs: number
  /** An idle keep-alive connection is closed after this. */
  keepAliveTimeoutMs: number
  /** Connections beyond this are refused at accept (0: no cap). */
  maxConnections: number
}

export interface ListenOptions {
  fetch: (request: Request) => Response | Promise<Response>
  port: number
  hostname: string
  limits: HttpServerLimits
}

/**
 * Node's HTTP server with the hub's limits. Node enforces the header and request timeouts from a
 * periodic connection check (default every 30 s, which let trickling sockets live for half a
 * minute); the check runs here at a quarter of the header timeout, at most every second.
 */
export function listen(options: ListenOptions): Promise<{ server: ServerType; port: number }> {
  const { limits } = options
  const headersTimeout = Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs)
  return new Promise((resolve, reject) => {
    const server = serve(
      {
        fetch: options.fetch,
        port: options.port,
        hostname: options.hostname,
        serverOptions: {
          headersTimeout,
          requestTimeout: limits.requestTimeoutMs,
          keepAliveTimeout: limits.keepAliveTimeoutMs,
          connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(headersTimeout / 4))),
        },
      },
      (info: AddressInfo) => resolve({ server, port: info.port }),
    )
    if (limits.maxConnections > 0) server.maxConnections = limits.maxConnections
    server.once('error', reject)
  })
}
