import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestHub, type TestHub } from './helpers/hub.ts'

/** HTTP semantics a first-time caller meets: the wrong media type and the wrong method. */
let hub: TestHub
beforeAll(async () => {
  hub = await createTestHub()
})
afterAll(async () => hub?.close())

async function problem(res: Response) {
  expect(res.headers.get('content-type')).toContain('application/problem+json')
  return (await res.json()) as { status: number; code: string; detail: string; requestId: string }
}

describe('a JSON route sent something else', () => {
  it.each([
    ['no content-type', {}],
    ['text/plain', { 'content-type': 'text/plain' }],
    ['a form', { 'content-type': 'application/x-www-form-urlencoded' }],
  ])('answers %s with 415 UNSUPPORTED_MEDIA_TYPE and says to send JSON', async (_, headers) => {
    for (const path of ['/v1/ask', '/v1/sql', '/v1/admin/keys']) {
      const res = await hub.call(path, {
        method: 'POST',
        key: hub.keys.acme,
        headers,
        body: '{"question":"Total TRx by product"}',
      })
      expect(res.status, path).toBe(415)
      const body = await problem(res)
      expect(body.code).toBe('UNSUPPORTED_MEDIA_TYPE')
      expect(body.detail).toMatch(/Content-Type: application\/json/)
    }
  })

  it('still answers the same body sent as application/json', async () => {
    const res = await hub.call('/v1/ask', {
      method: 'POST',
      key: hub.keys.acme,
      json: { question: 'Total TRx by product' },
    })
    expect(res.status).toBe(200)
  })
})

describe('a route called with a method it does not take', () => {
  it.each([
    ['GET', '/v1/ask', 'POST'],
    ['GET', '/v1/sql', 'POST'],
    ['PUT', '/v1/datasets', 'GET, HEAD'],
    ['POST', '/v1/datasets/prescriptions', 'GET, HEAD'],
    ['DELETE', '/v1/admin/keys', 'GET, HEAD, POST'],
    ['GET', '/v1/admin/keys/abc', 'DELETE'],
    ['GET', '/v1/admin/refresh', 'POST'],
  ])('answers %s %s with 405 METHOD_NOT_ALLOWED and Allow: %s', async (method, path, allow) => {
    const res = await hub.call(path, { method, key: hub.keys.acme })
    expect(res.status).toBe(405)
    expect(res.headers.get('allow')).toBe(allow)
    const body = await problem(res)
    expect(body.code).toBe('METHOD_NOT_ALLOWED')
    expect(body.detail).toContain(allow.split(', ')[0])
  })

  it('keeps 404 for a path no method answers', async () => {
    const res = await hub.call('/v1/nope', { key: hub.keys.acme })
    expect(res.status).toBe(404)
    expect((await problem(res)).code).toBe('NOT_FOUND')
  })
})
