import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { loadConfig } from '../packages/core/src/config/index.ts'
import { startHub } from '../packages/core/src/service/server.ts'
import { DEMO_CACHE } from './global-setup.ts'
import { createTestHub, type TestHub } from './helpers/hub.ts'

/** /metrics labels name tenants: it is never served to an unauthenticated caller on the public port. */
let hub: TestHub | undefined
afterEach(async () => {
  await hub?.close()
  hub = undefined
})

const TOKEN = 'metrics-token-0123456789abcdef'

describe('/metrics exposure', () => {
  it('is not served on the public port when neither HUB_METRICS_TOKEN nor HUB_METRICS_PORT is set', async () => {
    hub = await createTestHub()
    const res = await hub.call('/metrics')
    expect(res.status).toBe(404)
    expect(await res.text()).not.toContain('acme')
  })

  it('with HUB_METRICS_PORT alone, is served only by the separate metrics app', async () => {
    hub = await createTestHub({ env: { HUB_METRICS_PORT: '0' } })
    expect((await hub.call('/metrics')).status).toBe(404)
    const res = await hub.metricsApp.request('/metrics')
    expect(res.status).toBe(200)
    expect(await res.text()).toContain('nl2q_http_requests_total')
  })

  it('with a token, requires it on the public port and on the metrics port alike', async () => {
    hub = await createTestHub({ env: { HUB_METRICS_PORT: '0', HUB_METRICS_TOKEN: TOKEN } })
    for (const call of [
      (h: Record<string, string>) => hub!.app.request('/metrics', { headers: h }),
      (h: Record<string, string>) => hub!.metricsApp.request('/metrics', { headers: h }),
    ]) {
      expect((await call({})).status).toBe(401)
      expect((await call({ authorization: `Bearer ${TOKEN}x` })).status).toBe(401)
      expect((await call({ authorization: `Bearer ${TOKEN}` })).status).toBe(200)
    }
  })

  // The public HOST is often 0.0.0.0; the token-less metrics port must not follow it there.
  it('listens on loopback by default even when the public port listens on every interface', async () => {
    const home = mkdtempSync(join(tmpdir(), 'nl2q-metrics-host-'))
    mkdirSync(join(home, 'tenants'))
    copyFileSync(join(DEMO_CACHE, 'acme.sqlite'), join(home, 'tenants', 'acme.sqlite'))
    const started = await startHub(
      loadConfig({
        HUB_HOME: home,
        HOST: '0.0.0.0',
        PORT: '0',
        HUB_LOG_LEVEL: 'silent',
        HUB_CONNECTORS: '',
        HUB_METRICS_PORT: '0',
      }),
    )
    try {
      expect((started.server.address() as AddressInfo).address).toBe('0.0.0.0')
      expect((started.metricsServer!.address() as AddressInfo).address).toBe('127.0.0.1')
      const res = await fetch(`${started.metricsUrl}/metrics`)
      expect(res.status).toBe(200)
    } finally {
      await started.stop()
      rmSync(home, { recursive: true, force: true })
    }
  }, 120_000)

  it('binds the metrics port where HUB_METRICS_HOST says', () => {
    expect(loadConfig({}).metrics.host).toBe('127.0.0.1')
    expect(loadConfig({ HUB_METRICS_HOST: '0.0.0.0' }).metrics.host).toBe('0.0.0.0')
  })

  it('rejects a metrics token shorter than 16 characters', async () => {
    expect(() => loadConfig({ HUB_METRICS_TOKEN: 'short' })).toThrow(/HUB_METRICS_TOKEN/)
  })
})
