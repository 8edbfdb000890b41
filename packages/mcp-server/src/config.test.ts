import { loadConfig } from '@nl2q/core'
import { describe, expect, it } from 'vitest'
import { loadMcpConfig } from './config.ts'

const hub = (env: Record<string, string> = {}) => loadConfig({ HUB_HOME: '/tmp/nl2q-mcp-config', ...env })

describe('MCP configuration', () => {
  it('allows local hosts, the public host and the allow-list; origins are the CORS list and the public origin', () => {
    const config = loadMcpConfig(
      hub({ HUB_PUBLIC_URL: 'https://hub.example.com:8443/', HUB_CORS_ORIGINS: 'https://app.example.com/' }),
      { HUB_MCP_ALLOWED_HOSTS: 'MCP.internal' },
    )
    expect(config.allowedHosts).toEqual([
      'localhost',
      '127.0.0.1',
      '[::1]',
      'hub.example.com',
      'mcp.internal',
    ])
    expect(config.allowedOrigins).toEqual(['https://app.example.com', 'https://hub.example.com:8443'])
  })

  it('names the JWT issuer as authorization server unless told otherwise', () => {
    const jwt = {
      HUB_JWT_ISSUER: 'https://login.example.com',
      HUB_JWT_AUDIENCE: 'x',
      HUB_JWT_SECRET: 'a'.repeat(32),
    }
    expect(loadMcpConfig(hub(jwt), {}).authorizationServers).toEqual(['https://login.example.com'])
    expect(
      loadMcpConfig(hub(jwt), {
        HUB_OAUTH_AUTHORIZATION_SERVERS: 'https://a.example.com, https://b.example.com',
      }).authorizationServers,
    ).toEqual(['https://a.example.com', 'https://b.example.com'])
    expect(loadMcpConfig(hub(), {}).authorizationServers).toEqual([])
  })

  it('caps rows by the hub limit and rejects a bad variable by name', () => {
    expect(loadMcpConfig(hub({ HUB_MAX_ROWS: '100' }), { HUB_MCP_MAX_ROWS: '500' }).limits.maxRows).toBe(100)
    expect(() => loadMcpConfig(hub(), { HUB_OAUTH_AUTHORIZATION_SERVERS: 'not a url' })).toThrow(
      /HUB_OAUTH_AUTHORIZATION_SERVERS/,
    )
    expect(() => loadMcpConfig(hub(), { HUB_MCP_SCOPE: 'two words' })).toThrow(/HUB_MCP_SCOPE/)
  })
})
