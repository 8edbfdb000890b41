import type { OpenAPIHono } from '@hono/zod-openapi'
import type { MiddlewareHandler } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { cors } from 'hono/cors'
import type { Connector, RouteContext, SecurityMiddleware } from '../connectors/contract.ts'
import { HubError } from '../errors.ts'
import { DOCS_HTML } from './docs-page.ts'
import { problemHandler, problemResponse } from './errors.ts'
import { accessLog } from './middleware/access-log.ts'
import { requestId } from './middleware/request-id.ts'
import { requestTimeout } from './middleware/timeout.ts'
import { createRouter } from './openapi.ts'
import { dataRoutes } from './routes/data.ts'
import { healthRoutes } from './routes/health.ts'
import { meRoutes } from './routes/me.ts'
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
}

/**
 * The hub's HTTP app. Order matters: request id → client ip → access log → CORS → timeout →
 * body limit, then for /v1/* authenticate → rate limit → route. Connectors mount their own prefixes
 * with the same security middleware.
 */
export function createApp(options: AppOptions): OpenAPIHono {
  const { services, security, connectors = [] } = options
  const { config } = services
  const app = createRouter()
  app.onError(problemHandler)
  app.notFound((c) =>
    problemResponse(
      c,
      new HubError('NOT_FOUND', `No route for ${c.req.method} ${new URL(c.req.url).pathname}`),
    ),
  )

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
  app.use(
    '*',
    requestTimeout(config.limits.requestTimeoutMs),
    bodyLimit({
      maxSize: config.limits.bodyBytes,
      onError: (c) =>
        problemResponse(
          c,
          new HubError('PAYLOAD_TOO_LARGE', `The request body exceeds ${config.limits.bodyBytes} bytes`),
        ),
    }),
  )

  app.route('/', healthRoutes(services, connectors, options.isDraining ?? (() => false)))
  app.get('/metrics', async (c) => {
    for (const p of await services.tenants.poolStats()) {
      services.metrics.poolUsed.set({ tenant: p.tenant }, p.used)
      services.metrics.poolFree.set({ tenant: p.tenant }, p.free)
    }
    const body = await services.metrics.registry.metrics()
    return c.body(body, 200, { 'content-type': services.metrics.registry.contentType })
  })
  app.get('/docs', (c) => c.html(DOCS_HTML))

  app.use('/v1/*', security.authenticate(), security.rateLimit)
  app.route('/', meRoutes())
  app.route('/', dataRoutes(services))
  for (const routes of options.protectedRoutes ?? []) app.route('/', routes)

  for (const connector of connectors) {
    if (!connector.routes) continue
    if (!options.connectorContext) throw new Error(`no context to mount connector ${connector.name}`)
    connector.routes(app, options.connectorContext(connector))
  }

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    description: 'A hub API key (nl2q_…) or a JWT from the configured issuer',
  })
  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'NL2Q Hub',
      version: '0.1.0',
      description:
        'Answers natural-language questions about business data, scoped to what each caller may see.',
    },
  })
  return app
}
