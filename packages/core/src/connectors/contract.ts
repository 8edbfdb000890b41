import type { OpenAPIHono } from '@hono/zod-openapi'
import type { Command } from 'commander'
import type { MiddlewareHandler } from 'hono'
import type { Logger } from 'pino'
import type { HubConfig } from '../config/index.ts'
import type { Hub } from '../hub/types.ts'
import type { MetadataStore } from '../metadata/store.ts'
import type { Role } from '../principal.ts'

export interface HealthCheck {
  name: string
  ok: boolean
  detail?: string
}

/** The shared security path, handed to connectors so that every door uses the same one. */
export interface SecurityMiddleware {
  /**
   * Verify the credential and set `c.var.principal`. `challenge` customises the
   * `WWW-Authenticate` header (e.g. MCP's `resource_metadata`); `basic` accepts HTTP Basic with
   * an API key as the password (what Power BI sends).
   */
  authenticate(options?: {
    basic?: boolean
    challenge?: (c: Parameters<MiddlewareHandler>[0]) => string
    /** Recorded in audit events of failed authentications (`mcp`, `odata`, …). */
    channel?: string
  }): MiddlewareHandler
  /** Per-credential rate limit (after authenticate). */
  rateLimit: MiddlewareHandler
  requireRole(...roles: Role[]): MiddlewareHandler
}

export interface ConnectorContext {
  hub: Hub
  /**
   * The hub's own metadata store, for a connector's own tables (saved questions, sync state) with
   * its own migrations. Tenant data is not reachable from it: that goes through `hub`.
   */
  metadata: Pick<MetadataStore, 'knex' | 'dialect'>
  config: HubConfig
  logger: Logger
  security: SecurityMiddleware
}

/** A connector plug-in: a package whose default export is `defineConnector({...})`. */
export interface Connector {
  name: string
  /** Mount routes. Use `ctx.security` on every route that serves data. */
  routes?(app: OpenAPIHono, ctx: ConnectorContext): void
  /** CLI sub-commands (`hub <name> …`). */
  commands?(program: Command): void
  /** Joins /health/ready. */
  health?(): Promise<HealthCheck>
  /** Called on graceful shutdown. */
  close?(): Promise<void>
}

export function defineConnector<T extends Connector>(connector: T): T {
  return connector
}
