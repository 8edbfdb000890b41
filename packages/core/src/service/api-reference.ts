import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import type { OpenAPIHono } from '@hono/zod-openapi'
import { HubError } from '../errors.ts'

/**
 * The API reference at /docs: Swagger UI (swagger-ui-dist, served from node_modules — no CDN, works
 * offline) over /openapi.json, which the route schemas generate. `GET /` redirects here.
 */

const DESCRIPTION = `Answers natural-language questions about business data, scoped to what each caller may see.

**Authentication.** Send an API key (\`nl2q_…\`, from \`hub key create\` or \`POST /v1/admin/keys\`) or a
JWT from the configured issuer as \`Authorization: Bearer …\`. Power BI and other OData clients send
the API key as the password of HTTP Basic (any user name). Press **Authorize** to try requests here.

**Errors** are RFC 9457 \`application/problem+json\` with a stable \`code\` and the \`requestId\` to
quote to an operator.

### Other doors
The same tenants, policies, rate limits and audit trail, for other clients (when their connector
is loaded — both are by default):

| path | what | guide |
|---|---|---|
| \`/mcp\` | Model Context Protocol (Streamable HTTP) for hosted AI agents; desktop assistants run \`nl2q-mcp\` (stdio) | \`packages/mcp-server/README.md\` |
| \`/odata\` | OData v4 feed of every dataset and saved question, for Power BI and Excel (Basic or Bearer) | \`packages/powerbi-connector/README.md\` |
| [\`/powerbi/NL2Q.mez\`](/powerbi/NL2Q.mez) | the Power Query custom connector to download | \`packages/powerbi-connector/README.md\` |
| \`/metrics\` | Prometheus metrics: on \`HUB_METRICS_PORT\`, or here with \`HUB_METRICS_TOKEN\` as a Bearer token | \`docs/architecture.md\` |
| [\`/health\`](/health) | the liveness and readiness probes | |
`

const TAGS = [
  { name: 'data', description: 'Ask questions, run guarded SQL, browse the datasets you may see' },
  { name: 'identity', description: 'Who the credential is' },
  { name: 'admin', description: "Your tenant's keys, audit trail and cache (admin role)" },
  { name: 'powerbi', description: 'Saved questions, served as refreshable OData entity sets' },
  { name: 'operations', description: 'Health probes and metrics, without credentials' },
]

const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>NL2Q Hub API</title>
<meta name="viewport" content="width=device-width,initial-scale=1">
<link rel="icon" type="image/png" href="/docs/assets/favicon-32x32.png">
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
</head><body><div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/assets/init.js"></script>
</body></html>`

// validatorUrl null: Swagger UI would otherwise show a badge fetched from a public validator.
const INIT = `window.ui = SwaggerUIBundle({
  url: '/openapi.json',
  dom_id: '#swagger-ui',
  validatorUrl: null,
  deepLinking: true,
  docExpansion: 'list',
  defaultModelsExpandDepth: 0,
  displayRequestDuration: true,
  persistAuthorization: false,
})
`

const ASSETS: Record<string, string> = {
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'swagger-ui.css': 'text/css; charset=utf-8',
  'favicon-32x32.png': 'image/png',
}

const distDir = () => dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'))

/** Mount /docs, its assets, the `/` redirect and /openapi.json (call after every route is mounted). */
export function mountApiReference(app: OpenAPIHono): void {
  const cache = new Map<string, Uint8Array<ArrayBuffer>>()
  app.get('/', (c) => c.redirect('/docs', 302))
  app.get('/docs', (c) => c.html(PAGE))
  app.get('/docs/assets/init.js', (c) =>
    c.body(INIT, 200, { 'content-type': ASSETS['swagger-ui-bundle.js']! }),
  )
  app.get('/docs/assets/:file', async (c) => {
    const file = c.req.param('file')
    const type = Object.hasOwn(ASSETS, file) ? ASSETS[file] : undefined
    if (!type) throw new HubError('NOT_FOUND', `No asset ${file}`)
    let body = cache.get(file)
    if (!body) {
      body = new Uint8Array(await readFile(join(distDir(), file))) as Uint8Array<ArrayBuffer>
      cache.set(file, body)
    }
    return c.body(body, 200, { 'content-type': type, 'cache-control': 'public, max-age=3600' })
  })

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    description: 'A hub API key (nl2q_…) or a JWT from the configured issuer (HUB_JWT_*)',
  })
  app.openAPIRegistry.registerComponent('securitySchemes', 'basic', {
    type: 'http',
    scheme: 'basic',
    description: 'For OData clients such as Power BI: any user name, the API key as the password',
  })
  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: { title: 'NL2Q Hub', version: '0.1.0', description: DESCRIPTION },
    tags: TAGS,
  })
}
