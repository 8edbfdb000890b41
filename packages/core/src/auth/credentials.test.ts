import { describe, expect, it } from 'vitest'
import { parseAuthorization, queryCredentialParam } from './credentials.ts'

describe('Authorization header parsing', () => {
  it('parses Bearer case-insensitively and refuses malformed values', () => {
    expect(parseAuthorization('Bearer abc.def')).toEqual({ scheme: 'bearer', token: 'abc.def' })
    expect(parseAuthorization('bearer abc')).toEqual({ scheme: 'bearer', token: 'abc' })
    expect(parseAuthorization(undefined)).toEqual({ scheme: 'none' })
    expect(parseAuthorization('  ')).toEqual({ scheme: 'none' })
    expect(parseAuthorization('Bearer')).toEqual({ scheme: 'malformed' })
    expect(parseAuthorization('Bearer a b')).toEqual({ scheme: 'malformed' })
    expect(parseAuthorization('Negotiate abc')).toEqual({ scheme: 'other' })
  })

  it('takes the password of Basic and ignores the user name', () => {
    const header = `Basic ${Buffer.from('anyone:nl2q_key:with:colons').toString('base64')}`
    expect(parseAuthorization(header)).toEqual({ scheme: 'basic', password: 'nl2q_key:with:colons' })
    expect(parseAuthorization(`Basic ${Buffer.from('nocolon').toString('base64')}`)).toEqual({
      scheme: 'malformed',
    })
  })

  it('spots credentials in the query string', () => {
    expect(queryCredentialParam('http://h/v1/x?access_token=a')).toBe('access_token')
    expect(queryCredentialParam('http://h/v1/x?a=1&api_key=')).toBe('api_key')
    expect(queryCredentialParam('http://h/v1/x?$top=5&tokens=1')).toBeNull()
  })
})
