import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import { clientIpMiddleware, resolveClientIp, trustedProxyMatcher } from './client-ip.ts'

const trusted = trustedProxyMatcher(['10.0.0.1', '172.16.0.0/12', 'fd00::/8'])

describe('client IP under the trusted-proxy rule', () => {
  it('uses the socket peer when it is not a trusted proxy, whatever X-Forwarded-For says', () => {
    expect(resolveClientIp('203.0.113.9', '1.2.3.4', trusted)).toBe('203.0.113.9')
    expect(resolveClientIp('::ffff:203.0.113.9', undefined, trusted)).toBe('203.0.113.9')
  })

  it('walks X-Forwarded-For from the right past trusted hops', () => {
    expect(resolveClientIp('10.0.0.1', '198.51.100.1', trusted)).toBe('198.51.100.1')
    expect(resolveClientIp('10.0.0.1', 'spoofed, 198.51.100.1, 172.20.1.1', trusted)).toBe('198.51.100.1')
    expect(resolveClientIp('fd00::1', '2001:db8::5', trusted)).toBe('2001:db8::5')
  })

  it('stops at garbage and keeps the last address a trusted hop vouched for', () => {
    expect(resolveClientIp('10.0.0.1', 'not-an-ip, 172.20.1.1', trusted)).toBe('172.20.1.1')
    expect(resolveClientIp('10.0.0.1', 'evil', trusted)).toBe('10.0.0.1')
  })

  it('refuses a trusted-proxy entry that is not an address or range', () => {
    expect(() => trustedProxyMatcher(['proxy.local'])).toThrow(/HUB_TRUSTED_PROXIES/)
  })

  it('sets c.var.clientIp from the Node socket', async () => {
    const app = new Hono()
    app.use(clientIpMiddleware({ trustedProxies: ['10.0.0.1'] }))
    app.get('/', (c) => c.text(c.get('clientIp')))
    const env = (ip: string) => ({ incoming: { socket: { remoteAddress: ip } } })
    const viaProxy = await app.request(
      '/',
      { headers: { 'X-Forwarded-For': '198.51.100.7' } },
      env('10.0.0.1'),
    )
    expect(await viaProxy.text()).toBe('198.51.100.7')
    const direct = await app.request(
      '/',
      { headers: { 'X-Forwarded-For': '198.51.100.7' } },
      env('192.0.2.1'),
    )
    expect(await direct.text()).toBe('192.0.2.1')
    expect(await (await app.request('/')).text()).toBe('unknown')
  })
})
