import { describe, expect, it } from 'vitest'
import { generateApiKey, hashSecret, parseApiKey, secretMatches } from './api-key-format.ts'

describe('API key format', () => {
  it('round-trips a generated key with a 256-bit secret', () => {
    const k = generateApiKey()
    expect(parseApiKey(k.key)).toEqual({ id: k.id, secret: k.secret })
    expect(Buffer.from(k.secret, 'base64url')).toHaveLength(32)
  })

  it('returns null for anything malformed instead of throwing', () => {
    for (const bad of [
      '',
      'nl2q_',
      'nl2q_0123456789abcdef_short',
      `nl2q_XYZ_${'a'.repeat(43)}`,
      `${'a'.repeat(5000)}`,
    ]) {
      expect(parseApiKey(bad)).toBeNull()
    }
  })

  it('keeps underscores of the base64url secret intact', () => {
    const secret = `${'_'.repeat(10)}${'a'.repeat(33)}`
    expect(parseApiKey(`nl2q_0123456789abcdef_${secret}`)).toEqual({ id: '0123456789abcdef', secret })
  })

  it('matches a secret against its hash only', () => {
    const h = hashSecret('s3cret')
    expect(secretMatches('s3cret', h)).toBe(true)
    expect(secretMatches('s3cret!', h)).toBe(false)
    expect(secretMatches('s3cret', 'abc')).toBe(false)
  })
})
