import { describe, expect, it } from 'vitest'
import { WidgetConfigSchema } from './config.ts'
import { widgetPolicy } from './headers.ts'
import { originAllowed } from './origins.ts'

describe('origin allow-lists', () => {
  const list = ['https://*.lightning.force.com', 'https://acme.veevacrm.com', 'http://127.0.0.1:5173']
  it.each([
    ['https://acme.lightning.force.com', true],
    ['https://a.b.lightning.force.com', true],
    ['https://acme.veevacrm.com', true],
    ['http://127.0.0.1:5173', true],
    ['https://lightning.force.com', false],
    ['https://evil.com/.lightning.force.com', false],
    ['https://acme.lightning.force.com.evil.com', false],
    ['http://acme.lightning.force.com', false],
    ['https://other.veevacrm.com', false],
    ['http://127.0.0.1:5174', false],
    ['null', false],
  ])('%s → %s', (origin, allowed) => {
    expect(originAllowed(origin, list)).toBe(allowed)
  })
})

describe('widget config', () => {
  it('reads lists, mappings and bounds', () => {
    const c = WidgetConfigSchema.parse({
      frame_ancestors: 'https://*.lightning.force.com, https://*.veevacrm.com',
      canvas_orgs: '00D5e000000AbCdEAF=acme',
      users: '{"005A":{"role":"viewer","territories":["ACM-T01"]}}',
    })
    expect(c.frame_ancestors).toEqual(['https://*.lightning.force.com', 'https://*.veevacrm.com'])
    expect(c.canvas_orgs.get('00D5e000000AbCdEAF')).toBe('acme')
    expect(c.users['005A']).toEqual({ role: 'viewer', territories: ['ACM-T01'] })
    expect(c.session_ttl_seconds).toBe(600)
    expect(c.message_origins).toBeUndefined()
  })

  it.each([
    [{ frame_ancestors: 'http://crm.example.com' }, 'frame_ancestors'],
    [{ frame_ancestors: "https://x.com 'unsafe-inline'" }, 'frame_ancestors'],
    [{ frame_ancestors: '*' }, 'frame_ancestors'],
    [{ users: 'not json' }, 'users'],
    [{ users: '{"u":{"role":"admin"}}' }, 'users'],
    [{ session_ttl_seconds: '3600' }, 'session_ttl_seconds'],
    [{ canvas_orgs: 'acme' }, 'canvas_orgs'],
  ])('refuses %j', (raw, key) => {
    const r = WidgetConfigSchema.safeParse(raw)
    expect(r.success).toBe(false)
    expect(r.error?.issues[0]?.path[0]).toBe(key)
  })

  it("frames nowhere without an allow-list, and runs only the nonce'd script", () => {
    expect(widgetPolicy('abc', [])).toContain("frame-ancestors 'none'")
    expect(widgetPolicy('abc', ['https://a.com'])).toMatch(
      /script-src 'nonce-abc'; .*frame-ancestors https:\/\/a\.com$/,
    )
    expect(widgetPolicy(null, [])).toContain("script-src 'none'")
  })
})
