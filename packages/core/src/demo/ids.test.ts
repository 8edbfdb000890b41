import { describe, expect, it } from 'vitest'
import {
  crmTag,
  hcpId,
  npi,
  npiCheckDigit,
  salesforceId,
  salesforceSuffix,
  scrambleFrom,
  territoryId,
} from './ids.ts'

describe('demo identifiers', () => {
  it('pads the prefixed ids to their documented widths', () => {
    expect(territoryId('ACM', 1)).toBe('ACM-T01')
    expect(hcpId('GLX', 42)).toBe('GLX-H00042')
  })

  it('computes the NPI check digit the way CMS does (1234567893 is the published example)', () => {
    expect(npiCheckDigit('123456789')).toBe(3)
  })

  it('makes distinct, valid 10-digit NPIs from distinct counters', () => {
    const s = scrambleFrom(0x9e3779b9, 12345)
    const all = Array.from({ length: 50_000 }, (_, i) => npi(i, s))
    const invalid = all.filter((n) => !/^1\d{9}$/.test(n) || npiCheckDigit(n.slice(0, 9)) !== Number(n[9]))
    expect(invalid).toEqual([])
    expect(new Set(all).size).toBe(50_000)
  })

  it('appends the Salesforce case-safe suffix (001A0000006Vm9r → …IAC)', () => {
    expect(salesforceSuffix('001A0000006Vm9r')).toBe('IAC')
  })

  it('makes 18-character CRM ids that stay unique even compared case-insensitively', () => {
    const s = scrambleFrom(123456789, 987654321)
    const all = Array.from({ length: 50_000 }, (_, i) => salesforceId('001', crmTag('ACM'), i, s))
    expect(all.filter((id) => !/^001ACM0[0-9A-Za-z]{8}[A-Z0-5]{3}$/.test(id))).toEqual([])
    expect(new Set(all.map((id) => id.toLowerCase())).size).toBe(50_000)
  })

  it('pads a short prefix to the 3-character tenant tag', () => {
    expect(crmTag('AB')).toBe('AB0')
    expect(crmTag('INITEC')).toBe('INI')
  })
})
