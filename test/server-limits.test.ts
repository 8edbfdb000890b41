import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../packages/core/src/config/index.ts'
import { startHub } from '../packages/core/src/service/server.ts'
import { DEMO_CACHE } from './global-setup.ts'

/** `hub start`'s server in-process: slow-client limits and the separate metrics listener. */
const home = mkdtempSync(join(tmpdir(), 'nl2q-limits-'))
let started: Awaited<ReturnType<typeof startHub>>

beforeAll(async () => {
  mkdirSync(join(home, 'tenants'))
  for (const id of ['acme', 'globex'])
    copyFileSync(join(DEMO_CACHE, `${id}.sqlite`), join(home, 'tenants', `${id}.sqlite`))
  started = await startHub(
    loadConfig({
      HUB_HOME: home,
      HOST: '127.0.0.1',
      PORT: '0',
      HUB_LOG_LEVEL: 'silent',
      HUB_CONNECTORS: '',
      HUB_HEADERS_TIMEOUT_MS: '500',
      HUB_METRICS_PORT: '0',
    }),
  )
}, 120_000)
afterAll(async () => {
  await started?.stop()
  rmSync(home, { recursive: true, force: true })
})

/** A socket that sends a request head one byte every 100 ms and never finishes it. */
function trickle(port: number): Promise<number> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    const text = `GET /health/live HTTP/1.1\r\nHost: x\r\nX-Slow: ${'a'.repeat(100)}`
    const began = performance.now()
    let i = 0
    const timer = setInterval(() => {
      if (i < text.length) socket.write(text[i++] as string)
    }, 100)
    const giveUp = setTimeout(() => socket.destroy(), 5000)
    socket.on('error', () => undefined)
    socket.on('close', () => {
      clearInterval(timer)
      clearTimeout(giveUp)
      resolve(performance.now() - began)
    })
  })
}

describe('hub start: slow clients and metrics listener', () => {
  it('closes header-trickling sockets within HUB_HEADERS_TIMEOUT_MS', async () => {
    const port = Number(new URL(started.url).port)
    const closedAfter = await Promise.all([trickle(port), trickle(port), trickle(port)])
    for (const ms of closedAfter) expect(ms).toBeLessThan(500 + 600)
    expect((await fetch(`${started.url}/health/live`)).status).toBe(200)
  })

  it('serves /metrics on HUB_METRICS_PORT and not on the public port', async () => {
    expect(started.metricsUrl).not.toBeNull()
    const res = await fetch(`${started.metricsUrl}/metrics`)
    expect(res.status).toBe(200)
    expect(await res.text()).toContain('nl2q_http_requests_total')
    expect((await fetch(`${started.url}/metrics`)).status).toBe(404)
  })
})
