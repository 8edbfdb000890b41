import { connect, type Socket } from 'node:net'
import type { ServerType } from '@hono/node-server'
import { Hono } from 'hono'
import { afterEach, describe, expect, it } from 'vitest'
import { listen } from './http-server.ts'

const app = new Hono().get('/', (c) => c.text('ok'))
let server: ServerType | undefined
afterEach(async () => {
  if (server && 'closeAllConnections' in server) server.closeAllConnections()
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()))
  server = undefined
})

async function start(limits: Partial<Parameters<typeof listen>[0]['limits']> = {}) {
  const started = await listen({
    fetch: app.fetch,
    port: 0,
    hostname: '127.0.0.1',
    limits: {
      headersTimeoutMs: 400,
      requestTimeoutMs: 2000,
      keepAliveTimeoutMs: 500,
      maxConnections: 0,
      ...limits,
    },
  })
  server = started.server
  return started.port
}

/** Open a socket that sends a request line one byte every `everyMs`, never finishing the head. */
function trickle(port: number, everyMs: number): Promise<{ socket: Socket; closedAfterMs: Promise<number> }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    const text =
      'GET / HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'
    let i = 0
    const started = performance.now()
    let timer: NodeJS.Timeout | undefined
    const closedAfterMs = new Promise<number>((done) => {
      socket.on('close', () => {
        clearInterval(timer)
        done(performance.now() - started)
      })
    })
    socket.on('error', () => undefined)
    socket.once('connect', () => {
      timer = setInterval(() => {
        if (i < text.length && !socket.destroyed) socket.write(text[i++] as string)
      }, everyMs)
      resolve({ socket, closedAfterMs })
    })
    socket.once('error', reject)
  })
}

describe('listen (slow clients)', () => {
  it('closes sockets that trickle the request head within the header timeout', async () => {
    const port = await start({ headersTimeoutMs: 400 })
    const sockets = await Promise.all([trickle(port, 50), trickle(port, 50), trickle(port, 50)])
    const closed = await Promise.all(
      sockets.map((s) =>
        Promise.race([s.closedAfterMs, new Promise<number>((r) => setTimeout(() => r(Infinity), 3000))]),
      ),
    )
    for (const ms of closed) expect(ms).toBeLessThan(400 + 600)
    for (const s of sockets) s.socket.destroy()
  })

  it('still answers a normal request', async () => {
    const port = await start()
    const res = await fetch(`http://127.0.0.1:${port}/`)
    expect(await res.text()).toBe('ok')
  })

  it('caps the number of open connections', async () => {
    const port = await start({ maxConnections: 2, headersTimeoutMs: 1500 })
    const held = await Promise.all([trickle(port, 100), trickle(port, 100)])
    const third = await trickle(port, 100)
    const closedAfter = await Promise.race([
      third.closedAfterMs,
      new Promise<number>((r) => setTimeout(() => r(Infinity), 1000)),
    ])
    expect(closedAfter).toBeLessThan(500)
    for (const s of [...held, third]) s.socket.destroy()
  })
})
