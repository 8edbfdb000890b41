import { describe, expect, it } from 'vitest'
import { assertPlainName, openDelivery } from './index.ts'

describe('destinations', () => {
  it('accepts plain file names only', () => {
    expect(() => assertPlainName('rx_2025-01-15_1.csv.gz')).not.toThrow()
    for (const bad of ['', '.', '..', 'a/b', '..\\x', 'a\u0000b', 'x'.repeat(256)])
      expect(() => assertPlainName(bad), bad).toThrow(/plain file name/)
  })

  it('refuses an unknown scheme, naming the known ones, and an sftp URL without a pinned host key', async () => {
    const scope = { secrets: { get: async () => 'key' }, config: {} }
    await expect(openDelivery('ftp://h/x', scope)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' })
    await expect(openDelivery('not a url', scope)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' })
    await expect(openDelivery('sftp://u:pw@127.0.0.1:1/x', scope)).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    })
    await expect(openDelivery('sftp://u@127.0.0.1:1/x', scope)).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringMatching(/no pinned host key/),
    })
  })
})
