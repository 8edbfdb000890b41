import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { readStdioCredential, stdioCredentialSource } from './credentials.ts'

describe('stdio credentials', () => {
  it('takes NL2Q_API_KEY, or the key file of NL2Q_TENANT', () => {
    expect(readStdioCredential(stdioCredentialSource({ NL2Q_API_KEY: 'nl2q_abc' }))).toEqual({
      apiKey: 'nl2q_abc',
      expectedTenant: undefined,
    })
    const dir = mkdtempSync(join(tmpdir(), 'nl2q-cred-'))
    writeFileSync(join(dir, 'acme.key'), 'nl2q_from_file\n')
    const source = stdioCredentialSource({ NL2Q_TENANT: 'acme', NL2Q_KEY_FILE: join(dir, 'acme.key') })
    expect(readStdioCredential(source)).toEqual({ apiKey: 'nl2q_from_file', expectedTenant: 'acme' })
  })

  it('refuses no credential, two credentials, a key file without tenant and an unreadable file', () => {
    expect(() => stdioCredentialSource({})).toThrow(/NL2Q_API_KEY/)
    expect(() => stdioCredentialSource({ NL2Q_API_KEY: 'a', NL2Q_KEY_FILE: '/x', NL2Q_TENANT: 't' })).toThrow(
      /only one/,
    )
    expect(() => stdioCredentialSource({ NL2Q_KEY_FILE: '/x' })).toThrow(/NL2Q_TENANT/)
    const source = stdioCredentialSource({ NL2Q_TENANT: 't', NL2Q_KEY_FILE: '/nonexistent/nl2q.key' })
    expect(() => readStdioCredential(source)).toThrow(/cannot read/)
  })

  it('never echoes the key in an error', () => {
    try {
      stdioCredentialSource({ NL2Q_API_KEY: 'nl2q_secret_value', NL2Q_KEY_FILE: '/x', NL2Q_TENANT: 't' })
    } catch (err) {
      expect(String(err)).not.toContain('nl2q_secret_value')
      return
    }
    throw new Error('expected a refusal')
  })
})
