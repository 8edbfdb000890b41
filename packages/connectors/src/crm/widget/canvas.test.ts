import { createHmac } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { canvasOrgOf, signCanvasRequest, verifyCanvasRequest } from './canvas.ts'

const SECRET = 'consumer-secret-0123456789'
const now = Date.UTC(2026, 0, 1) // fixed clock
const envelope = (o: Record<string, unknown> = {}) => ({
  algorithm: 'HMACSHA256',
  issuedAt: now / 1000,
  userId: '005A10000001AAA',
  client: { oauthToken: 'secret-oauth-token' },
  context: {
    user: { userId: '005A10000001AAA', userName: 'rep@acme.example' },
    organization: { organizationId: '00D5e000000AbCdEAF' },
    environment: { parameters: { hcp: 'ACM-H00001' } },
  },
  ...o,
})
const verify = (signed: string, maxAgeSeconds = 300) =>
  verifyCanvasRequest(signed, SECRET, { maxAgeSeconds, now })

describe('Canvas signed requests', () => {
  it('verifies what Salesforce signs (base64 HMAC-SHA256 over the base64 envelope)', () => {
    const v = verify(signCanvasRequest(envelope(), SECRET))
    expect(v.context.organization.organizationId).toBe('00D5e000000AbCdEAF')
    expect(v.context.environment?.parameters?.hcp).toBe('ACM-H00001')
  })

  it('accepts the base64url alphabet as well', () => {
    const payload = Buffer.from(JSON.stringify(envelope())).toString('base64url')
    const sig = createHmac('sha256', SECRET).update(payload).digest('base64url')
    expect(verify(`${sig}.${payload}`).userId).toBe('005A10000001AAA')
  })

  it('rejects another secret, a changed envelope and a truncated signature', () => {
    expect(() => verify(signCanvasRequest(envelope(), 'another-secret'))).toThrow(/signature does not match/)
    const [sig] = signCanvasRequest(envelope(), SECRET).split('.')
    const other = Buffer.from(JSON.stringify(envelope({ userId: '005B' }))).toString('base64')
    expect(() => verify(`${sig}.${other}`)).toThrow(/signature does not match/)
    const [, payload] = signCanvasRequest(envelope(), SECRET).split('.')
    expect(() => verify(`${sig!.slice(0, 10)}.${payload}`)).toThrow(/signature does not match/)
  })

  it('rejects another algorithm even when signed', () => {
    expect(() => verify(signCanvasRequest(envelope({ algorithm: 'none' }), SECRET))).toThrow(/not HMACSHA256/)
  })

  it('rejects a request older than the window or dated in the future, in seconds or milliseconds', () => {
    expect(() => verify(signCanvasRequest(envelope({ issuedAt: now / 1000 - 301 }), SECRET))).toThrow(
      /expired/,
    )
    expect(() => verify(signCanvasRequest(envelope({ issuedAt: now / 1000 + 3600 }), SECRET))).toThrow(
      /future/,
    )
    expect(verify(signCanvasRequest(envelope({ issuedAt: now - 5000 }), SECRET)).userId).toBeTruthy()
  })

  it('rejects malformed requests as INVALID_TOKEN, never a crash', () => {
    for (const bad of ['', 'abc', 'a.b.c', '!!!.???', `x.${Buffer.from('not json').toString('base64')}`])
      expect(() => canvasOrgOf(bad)).toThrow(expect.objectContaining({ code: 'INVALID_TOKEN' }))
    const noOrg = Buffer.from(
      JSON.stringify({ algorithm: 'HMACSHA256', issuedAt: 1, userId: 'u', context: {} }),
    )
    expect(() => canvasOrgOf(`x.${noOrg.toString('base64')}`)).toThrow(/lacks/)
  })
})
