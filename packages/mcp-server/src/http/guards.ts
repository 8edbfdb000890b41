import { validateHostHeader } from '@modelcontextprotocol/server'
import { HubError, type Principal } from '@nl2q/core'
import type { MiddlewareHandler } from 'hono'
import type { McpConfig } from '../config.ts'
import { resourceMetadataUrl } from './resource-url.ts'

/**
 * DNS-rebinding protection: the Host must be a known name (port-agnostic) and an Origin, when a
 * browser sends one, must be exactly one of the configured origins. Runs before authentication.
 */
export function hostOriginGuard(config: McpConfig): MiddlewareHandler {
  return async function mcpHostOriginGuard(c, next) {
    const host = c.req.header('host') ?? new URL(c.req.url).host
    const checked = validateHostHeader(host, config.allowedHosts)
    if (!checked.ok) {
      throw new HubError('FORBIDDEN', 'This host name is not allowed for the MCP endpoint', {
        details: { reason: 'host_not_allowed' },
      })
    }
    const origin = c.req.header('origin')
    if (origin !== undefined && !config.allowedOrigins.includes(origin)) {
      throw new HubError('FORBIDDEN', 'Requests from this origin are not allowed', {
        details: { reason: 'origin_not_allowed' },
      })
    }
    await next()
  }
}

/** True when the principal may use MCP: API keys carry no scopes and are granted; JWTs need the scope. */
export function hasMcpScope(principal: Principal, scope: string): boolean {
  return principal.credential.kind !== 'jwt' || principal.credential.scopes.includes(scope)
}

/** 403 insufficient_scope for a valid JWT without the MCP scope (RFC 6750 §3.1, MCP authorization). */
export function requireMcpScope(config: McpConfig): MiddlewareHandler {
  return async function mcpScopeMiddleware(c, next) {
    if (!hasMcpScope(c.get('principal'), config.scope)) {
      throw new HubError('INSUFFICIENT_SCOPE', `This token lacks the '${config.scope}' scope`, {
        headers: {
          'WWW-Authenticate': `Bearer error="insufficient_scope", scope="${config.scope}", resource_metadata="${resourceMetadataUrl(c, config)}"`,
        },
      })
    }
    await next()
  }
}
