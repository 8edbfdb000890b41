import { randomUUID } from 'node:crypto'
import type { MiddlewareHandler } from 'hono'

const VALID_ID = /^[A-Za-z0-9._:-]{8,128}$/

export interface RequestIdOptions {
  header?: string
}

/** Honour a well-formed incoming X-Request-Id, else generate one; echo it on the response. */
export function requestId(options: RequestIdOptions = {}): MiddlewareHandler {
  const header = options.header ?? 'X-Request-Id'
  return async function requestIdMiddleware(c, next) {
    const incoming = c.req.header(header)
    const id = incoming && VALID_ID.test(incoming) ? incoming : randomUUID()
    c.set('requestId', id)
    c.header(header, id)
    await next()
  }
}
