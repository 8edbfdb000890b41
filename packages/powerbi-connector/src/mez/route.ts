import { Hono } from 'hono'
import { buildMez } from './build.ts'

/**
 * `GET /powerbi/NL2Q.mez`: the custom connector for download. Unauthenticated on purpose: the file
 * holds no secret and no tenant data (the hub URL and API key are entered in Power BI).
 */
export function mezRoutes(path: string): Hono {
  let cached: Uint8Array | null = null
  const app = new Hono()
  app.get(path, (c) => {
    cached ??= buildMez()
    return c.body(cached.slice().buffer as ArrayBuffer, 200, {
      'content-type': 'application/zip',
      'content-disposition': 'attachment; filename="NL2Q.mez"',
      'cache-control': 'public, max-age=3600',
    })
  })
  return app
}
