import { request } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { listen } from '../packages/core/src/service/http-server.ts'
import { createTestHub, type TestHub } from './helpers/hub.ts'

/**
 * The body limit over a real socket, where a client either declares the length (judged by the
 * header) or streams the body chunked (counted as it arrives).
 */
const LIMIT = 2048
let hub: TestHub
let port = 0
let close: () => Promise<void>
beforeAll(async () => {
  hub = await createTestHub({ env: { HUB_BODY_LIMIT: String(LIMIT) } })
  const { server, port: p } = await listen({
    fetch: hub.app.fetch,
    port: 0,
    hostname: '127.0.0.1',
    limits: {
      headersTimeoutMs: 10_000,
      requestTimeoutMs: 30_000,
      keepAliveTimeoutMs: 5_000,
      maxConnections: 0,
    },
  })
  port = p
  close = () => new Promise((r) => server.close(() => r()))
})
afterAll(async () => {
  await close?.()
  await hub?.close()
})

function post(body: string, chunked: boolean): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/v1/ask',
        method: 'POST',
        headers: {
          authorization: `Bearer ${hub.keys.acme}`,
          'content-type': 'application/json',
          ...(chunked ? { 'transfer-encoding': 'chunked' } : { 'content-length': Buffer.byteLength(body) }),
        },
      },
      (res) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (d) => {
          text += d
        })
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }))
      },
    )
    req.on('error', reject)
    if (chunked) {
      // several chunks, as a streaming client sends them
      for (let i = 0; i < body.length; i += 500) req.write(body.slice(i, i + 500))
      req.end()
    } else req.end(body)
  })
}

describe('body limit over HTTP', () => {
  const big = JSON.stringify({ question: 'x'.repeat(LIMIT * 2) })
  const small = JSON.stringify({ question: 'Total TRx by product', asOf: '2025-01-15' })

  it.each([
    ['a declared length', false],
    ['a chunked body', true],
  ])('refuses %s over the limit with 413 PAYLOAD_TOO_LARGE', async (_, chunked) => {
    const res = await post(big, chunked)
    expect(res.status, res.text).toBe(413)
    expect(JSON.parse(res.text)).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' })
  })

  it.each([
    ['a declared length', false],
    ['a chunked body', true],
  ])('answers %s under the limit', async (_, chunked) => {
    const res = await post(small, chunked)
    expect(res.status, res.text).toBe(200)
    expect(JSON.parse(res.text)).toMatchObject({ question: 'Total TRx by product' })
  })
})
