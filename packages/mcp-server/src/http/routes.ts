import { type AuthInfo, createMcpHandler, type McpHttpHandler } from '@modelcontextprotocol/server'
import type { Connector, Principal, RouteContext } from '@nl2q/core'
import type { McpConfig } from '../config.ts'
import { createMcpServer } from '../server.ts'
import type { McpSession } from '../session.ts'
import { InFlightRequests, inspectBody } from './cancellations.ts'
import { hostOriginGuard, requireMcpScope } from './guards.ts'
import { protectedResourceMetadata } from './metadata.ts'
import { bearerChallenge, MCP_PATH, PRM_PATH } from './resource-url.ts'

/** The app a connector mounts on (the hub's OpenAPIHono). */
type ConnectorApp = Parameters<NonNullable<Connector['routes']>>[0]

function authInfoFor(principal: Principal): AuthInfo {
  const expires = principal.credential.expiresAt ? Date.parse(principal.credential.expiresAt) : Number.NaN
  return {
    token: '',
    clientId: principal.credential.id,
    scopes: principal.credential.scopes,
    ...(Number.isFinite(expires) ? { expiresAt: Math.floor(expires / 1000) } : {}),
  }
}

/**
 * Mount the MCP endpoint and its OAuth protected-resource metadata. Per request: Host/Origin guard →
 * shared authenticate (with the MCP challenge) → MCP scope → shared rate limit → a fresh, stateless
 * MCP server for this principal (both 2025-11-25 and 2026-07-28 clients; GET/DELETE answer 405).
 */
export function mountMcp(app: ConnectorApp, ctx: RouteContext<unknown>, config: McpConfig): McpHttpHandler {
  const sessions = new WeakMap<AuthInfo, McpSession>()
  const inFlight = new InFlightRequests()
  const handler = createMcpHandler(
    ({ authInfo }) => {
      const session = authInfo && sessions.get(authInfo)
      if (!session) throw new Error('MCP request reached the server factory without a verified principal')
      return createMcpServer(session)
    },
    {
      legacy: 'stateless',
      maxRequestBodySize: ctx.hub.info.limits.bodyBytes,
      onerror: (err) => ctx.logger.debug({ err }, 'MCP request rejected'),
    },
  )

  const guard = hostOriginGuard(config)
  for (const path of [PRM_PATH, `${PRM_PATH}${MCP_PATH}`]) {
    app.get(path, guard, (c) => {
      c.header('Cache-Control', 'public, max-age=300')
      c.header('Vary', 'Host')
      return c.json(protectedResourceMetadata(c, config))
    })
  }

  app.use(
    MCP_PATH,
    guard,
    ctx.security.authenticate({ challenge: (c) => bearerChallenge(c, config), channel: 'mcp' }),
    requireMcpScope(config),
    ctx.security.rateLimit,
  )
  app.all(MCP_PATH, async (c) => {
    const principal = c.get('principal')
    const credentialId = principal.credential.id
    const httpSignal = c.get('signal') ?? c.req.raw.signal
    const body: unknown =
      c.req.method === 'POST'
        ? await c.req.raw
            .clone()
            .json()
            .catch(() => undefined)
        : undefined
    const { requestIds, cancels } = inspectBody(body)
    for (const cancel of cancels) inFlight.cancel(credentialId, cancel.requestId, cancel.reason)
    const tracked = requestIds.map((id) => inFlight.track(credentialId, id))
    let released = false
    const release = () => {
      if (released) return
      released = true
      for (const t of tracked) t.release()
    }
    httpSignal.addEventListener('abort', release, { once: true })
    const signals = [httpSignal, ...tracked.map((t) => t.signal)]

    const session: McpSession = {
      principal,
      hub: ctx.hub.for(c),
      open: async (signal) => {
        const call = AbortSignal.any([signal, ...signals])
        return { hub: ctx.hub.for(c, { signal: call }), audit: ctx.audit.for(c), signal: call }
      },
      limits: config.limits,
      logger: c.get('log') ?? ctx.logger,
    }
    const authInfo = authInfoFor(principal)
    sessions.set(authInfo, session)
    let response: Response
    try {
      response = await handler.fetch(c.req.raw, { authInfo })
    } catch (err) {
      release()
      throw err
    }
    if (!response.body || tracked.length === 0) {
      release()
      return response
    }
    // A streamed (SSE) answer outlives this handler: stop tracking when the stream ends.
    const body$ = response.body.pipeThrough(new TransformStream({ flush: release }))
    return new Response(body$, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    })
  })
  return handler
}
