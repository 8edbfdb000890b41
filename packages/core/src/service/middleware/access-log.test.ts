import { Writable } from 'node:stream'
import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import { createMetrics } from '../../metrics/registry.ts'
import { createLogger } from '../logger.ts'
import { accessLog } from './access-log.ts'
import { requestId } from './request-id.ts'

describe('accessLog', () => {
  it('writes one line per request, and a handler’s own lines are still redacted', async () => {
    const out: string[] = []
    const logger = createLogger(
      'info',
      new Writable({
        write(chunk, _enc, cb) {
          out.push(String(chunk))
          cb()
        },
      }),
    )
    const app = new Hono()
    app.use('*', requestId(), accessLog({ logger, metrics: createMetrics({ defaultMetrics: false }) }))
    app.post('/v1/things/:id', (c) => {
      c.get('log').info({ token: 'SECRET-TOKEN', dbUrl: 'mysql://u:SECRET-PW@h/db' }, 'handler line')
      return c.json({ ok: true })
    })
    const res = await app.request('/v1/things/7?x=1', {
      method: 'POST',
      headers: { 'x-request-id': 'req-12345678' },
    })
    expect(res.status).toBe(200)
    await new Promise((r) => setImmediate(r))
    const lines = out
      .join('')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
    expect(lines.find((l) => l.msg === 'handler line')).toMatchObject({
      requestId: 'req-12345678',
      token: '[redacted]',
      dbUrl: '[redacted]',
    })
    expect(lines.filter((l) => l.msg === 'request')).toEqual([
      expect.objectContaining({
        requestId: 'req-12345678',
        method: 'POST',
        route: '/v1/things/:id',
        path: '/v1/things/7',
        status: 200,
      }),
    ])
    expect(out.join('')).not.toContain('SECRET')
  })
})
