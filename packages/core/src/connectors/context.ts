import type { Context } from 'hono'
import type { Knex } from 'knex'
import type { Logger } from 'pino'
import type { Registry } from 'prom-client'
import { HubError } from '../errors.ts'
import type { Hub } from '../hub/types.ts'
import type { Principal } from '../principal.ts'
import type { RequestContext } from '../request-context.ts'
import type { SecretBox } from '../secrets/index.ts'
import { bindAudit, bindHub } from './bound-hub.ts'
import { configForTenant, envSection, parseSection } from './config-section.ts'
import { connectorMetrics } from './connector-metrics.ts'
import type {
  ClaimsContext,
  ConfigOf,
  ConfigSchema,
  Connector,
  GrantedClaims,
  HubInfo,
  RouteContext,
  SecurityMiddleware,
  SetupContext,
  TenantScope,
  VerifiedToken,
} from './contract.ts'
import { CONNECTOR_NAME } from './contract.ts'
import { connectorSecrets } from './secret-store.ts'
import { connectorState } from './state-store.ts'

/** What the core holds to build connector contexts; none of it is handed to a connector as such. */
export interface ConnectorHost {
  hub: Hub
  /** The metadata store's knex: used here, never exposed. */
  knex: Knex
  secrets: SecretBox
  registry: Registry
  logger: Logger
  info: HubInfo
  env: NodeJS.ProcessEnv
}

/** The authenticated principal of a request; a route outside the shared authenticate gets 401. */
function principalOf(c: Context): Principal {
  const principal = c.get('principal') as Principal | undefined
  if (!principal) throw new HubError('UNAUTHENTICATED', 'This route needs a credential')
  return principal
}

function requestFacts(c: Context, channel: string): RequestContext {
  return {
    requestId: c.get('requestId'),
    clientIp: c.get('clientIp') ?? null,
    channel,
    signal: c.get('signal') ?? c.req.raw.signal,
  }
}

/** The contexts of one connector: validated config, and doors bound per request, run or operator. */
export function connectorRuntime<S extends ConfigSchema>(host: ConnectorHost, connector: Connector<S>) {
  if (!CONNECTOR_NAME.test(connector.name))
    throw new HubError(
      'CONFIG_INVALID',
      `Connector name '${connector.name}' must be lower-case letters and digits`,
    )
  const name = connector.name
  const env = envSection(connector as Connector, host.env)
  // Validated at start-up: a bad HUB_<NAME>_* stops the hub before it listens.
  const defaults = parseSection(connector, env)
  const logger = host.logger.child({ connector: name })
  const metrics = connectorMetrics(host.registry, name)
  const configFor = (tenant: string) => configForTenant(host.knex, connector, env, tenant)
  /** A connector audits as itself or one of its own sub-doors (`crm-widget`), never as another. */
  const channelOf = (channel: string | undefined) => {
    if (channel === undefined) return name
    if (channel !== name && !new RegExp(`^${name}-[a-z0-9-]{1,20}$`).test(channel))
      throw new HubError('INTERNAL', `Connector ${name} cannot audit on channel '${channel}'`)
    return channel
  }

  async function scope(principal: Principal, rc: RequestContext): Promise<TenantScope<ConfigOf<S>>> {
    return {
      hub: bindHub(host.hub, principal, rc),
      state: connectorState(host.knex, name, principal.tenant, connector.reads),
      secrets: connectorSecrets(host.knex, host.secrets, name, principal.tenant),
      audit: bindAudit(host.hub, principal, rc),
      config: await configFor(principal.tenant),
      logger,
      metrics,
    }
  }

  return {
    name,
    defaults,
    env,
    scope,
    /** The door of `mapClaims`: the tenant's config and this connector's secrets for it. */
    async claimsContext(tenant: string): Promise<ClaimsContext<ConfigOf<S>>> {
      return {
        config: await configFor(tenant),
        secrets: connectorSecrets(host.knex, host.secrets, name, tenant),
        logger,
        metrics,
      }
    },
    setupContext(): SetupContext<ConfigOf<S>> {
      return { config: defaults, logger, metrics, hub: { info: host.info } }
    },
    routeContext(security: SecurityMiddleware): RouteContext<ConfigOf<S>> {
      return {
        hub: {
          for: (c, options) =>
            bindHub(host.hub, principalOf(c), {
              ...requestFacts(c, channelOf(options?.channel)),
              ...(options?.signal ? { signal: options.signal } : {}),
            }),
          info: host.info,
        },
        state: { for: (c) => connectorState(host.knex, name, principalOf(c).tenant, connector.reads) },
        secrets: { for: (c) => connectorSecrets(host.knex, host.secrets, name, principalOf(c).tenant) },
        audit: {
          for: (c, options) =>
            bindAudit(host.hub, principalOf(c), requestFacts(c, channelOf(options?.channel))),
        },
        config: { defaults, for: (c) => configFor(principalOf(c).tenant) },
        logger,
        metrics,
        security,
      }
    },
  }
}

export type ConnectorRuntime = ReturnType<typeof connectorRuntime>

/**
 * The authenticator's claims hook over every connector that has `mapClaims`: each is asked in load
 * order and the grants are combined; one that throws refuses the token (the authenticator fails closed).
 */
export function claimsMapper(
  pairs: { connector: Connector; runtime: ConnectorRuntime }[],
): ((token: VerifiedToken) => Promise<GrantedClaims | undefined>) | undefined {
  const mappers = pairs.filter((p) => p.connector.mapClaims)
  if (mappers.length === 0) return undefined
  return async (token) => {
    let out: GrantedClaims | undefined
    for (const { connector, runtime } of mappers) {
      const grant = await connector.mapClaims?.(token, await runtime.claimsContext(token.tenant))
      if (!grant) continue
      out = {
        roles: [...new Set([...(out?.roles ?? []), ...grant.roles])],
        attributes: { ...out?.attributes },
      }
      for (const [k, v] of Object.entries(grant.attributes))
        out.attributes[k] = [...new Set([...(out.attributes[k] ?? []), ...v])]
    }
    return out
  }
}

/** The public facts of a hub configuration a connector may read. */
export function hubInfo(config: {
  publicUrl: string | undefined
  corsOrigins: string[]
  auth: { issuer: string | undefined }
  limits: { maxRows: number; bodyBytes: number }
}): HubInfo {
  return {
    publicUrl: config.publicUrl,
    jwtIssuer: config.auth.issuer,
    corsOrigins: config.corsOrigins,
    limits: { maxRows: config.limits.maxRows, bodyBytes: config.limits.bodyBytes },
  }
}
