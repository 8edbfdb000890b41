import type { OpenAPIHono } from '@hono/zod-openapi'
import type { Context, MiddlewareHandler } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { cors } from 'hono/cors'
import type { Connector, RouteContext, SecurityMiddleware } from '../connectors/contract.ts'
import { HubError } from '../errors.ts'
import { allowedMethods } from './allowed-methods.ts'
import { mountApiReference } from './api-reference.ts'
import { problemHandler, problemResponse } from './errors.ts'
import { accessLog } from './middleware/access-log.ts'
import { requestId } from './middleware/request-id.ts'
import { requestTimeout } from './middleware/timeout.ts'
import { createRouter } from './openapi.ts'
import { dataRoutes } from './routes/data.ts'
import { healthRoutes } from './routes/health.ts'
import { meRoutes } from './routes/me.ts'
import { metricsRoutes } from './routes/metrics.ts'
import type { Services } from './services.ts'

export interface AppOptions {
  services: Services
  security: SecurityMiddleware
  /** Computes `c.var.clientIp` (X-Forwarded-For only from trusted proxies). */
  clientIp: MiddlewareHandler
  /** Route groups of the core that sit behind auth (keys admin, audit, …). */
  protectedRoutes?: OpenAPIHono[]
  connectors?: Connector[]
  /** The per-request doors of one connector (hub, state, secrets, audit bound to the caller). */
  connectorContext?: (connector: Connector) => RouteContext<Record<string, unknown>>
  isDraining?: () => boolean
  /** Audits refused requests that carry a credential (service/middleware/refusal-audit.ts). */
  refusalAudit?: MiddlewareHandler
}

/**
 * The hub's HTTP app. Order matters: request id → client ip → access log → refusal audit → CORS →
 * timeout → body limit, then for /v1/* authenticate → rate limit → route. Connectors mount their own prefixes
 * with the same security middleware.
 */
/**
 * The body limit. A request that declares its length (and is not chunked) is judged by the header
 * alone; Node's HTTP parser holds the body to that length. Only a chunked body is counted as it
 * streams (hono's bodyLimit). Hono's middleware asks for `c.req.raw.body` first, which turns the
 * node-server's light request into a full web Request with a stream on every request: 6 % of the
 * CPU of a cached /v1/ask before this.
 */
function declaredBodyLimit(maxSize: number): MiddlewareHandler {
  const tooLarge = (c: Context) =>
    problemResponse(c, new HubError('PAYLOAD_TOO_LARGE', `The request body exceeds ${maxSize} bytes`))
  const streaming = bodyLimit({ maxSize, onError: tooLarge })
  return async function bodyLimitMiddleware(c, next) {
    const length = c.req.header('content-length')
    if (length !== undefined && c.req.header('transfer-encoding') === undefined)
      return Number.parseInt(length, 10) > maxSize ? tooLarge(c) : next()
    if (c.req.method === 'GET' || c.req.method === 'HEAD') return next()
    return streaming(c, next)
  }
}

export function createApp(options: AppOptions): OpenAPIHono {
  const { services, security, connectors = [] } = options
  const { config } = services
  const app = createRouter()
  app.onError(problemHandler)
  const methodsFor = allowedMethods(() => app.routes)
  app.notFound(function notFoundOrNotAllowed(c) {
    const path = new URL(c.req.url).pathname
    const allow = methodsFor(path)
    if (allow.length > 0 && !allow.includes(c.req.method)) {
      return problemResponse(
        c,
        new HubError(
          'METHOD_NOT_ALLOWED',
          `${path} does not take ${c.req.method}; use ${allow.join(' or ')}`,
          {
            headers: { allow: allow.join(', ') },
          },
        ),
      )
    }
    return problemResponse(c, new HubError('NOT_FOUND', `No route for ${c.req.method} ${path}`))
  })

  app.use(
    '*',
    requestId(),
    options.clientIp,
    accessLog({ logger: services.logger, metrics: services.metrics }),
  )
  app.use('*', async function servicesMiddleware(c, next) {
    c.set('services', services)
    await next()
  })
  // Before CORS, the body limit and authentication, so that their refusals are audited too.
  if (options.refusalAudit) app.use('*', options.refusalAudit)
  if (config.corsOrigins.length > 0) {
    app.use(
      '*',
      cors({
        origin: config.corsOrigins,
        allowHeaders: [
          'Authorization',
          'Content-Type',
          'X-Request-Id',
          'Mcp-Protocol-Version',
          'Mcp-Method',
          'Mcp-Name',
          'Last-Event-ID',
        ],
        exposeHeaders: ['X-Request-Id', 'RateLimit', 'RateLimit-Policy', 'Retry-After', 'WWW-Authenticate'],
        maxAge: 600,
      }),
    )
  }
  // The timeout starts before the body is read, so a client that trickles its body is cut off too.
  app.use('*', requestTimeout(config.limits.requestTimeoutMs), declaredBodyLimit(config.limits.bodyBytes))

  app.route('/', healthRoutes(services, connectors, options.isDraining ?? (() => false)))
  // /metrics on the public port only behind HUB_METRICS_TOKEN; HUB_METRICS_PORT serves it apart
  // (server.ts); with neither it is not served, since its labels name tenants.
  if (config.metrics.token) app.route('/', metricsRoutes(services, config.metrics.token))

  app.use('/v1/*', security.authenticate(), security.rateLimit)
  app.route('/', meRoutes())
  app.route('/', dataRoutes(services))
  for (const routes of options.protectedRoutes ?? []) app.route('/', routes)

  for (const connector of connectors) {
    if (!connector.routes) continue
    if (!options.connectorContext) throw new Error(`no context to mount connector ${connector.name}`)
    connector.routes(app, options.connectorContext(connector))
  }

  mountApiReference(app)
  return app
}
