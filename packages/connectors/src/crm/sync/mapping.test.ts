import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { convert, DEFAULT_MAPPING, loadMapping, parseMapping } from './mapping.ts'
import { selectSoql } from './records.ts'

const dir = mkdtempSync(join(tmpdir(), 'nl2q-crm-mapping-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('CRM mapping', () => {
  it('maps the Veeva objects onto the pharma tables, parents first', () => {
    expect(Object.keys(DEFAULT_MAPPING.objects)).toEqual([
      'Territory2',
      'User',
      'Product_vod__c',
      'Account',
      'ObjectTerritory2Association',
      'Call2_vod__c',
    ])
    expect(selectSoql('Account', DEFAULT_MAPPING.objects.Account as never)).toMatch(
      /^SELECT Id, SystemModstamp, External_ID_vod__c, NPI_vod__c, .* FROM Account WHERE \(IsPersonAccount = true\)$/,
    )
  })

  it('overrides one object from a YAML file and keeps the rest', () => {
    const file = join(dir, 'override.yaml')
    writeFileSync(
      file,
      [
        'objects:',
        '  Call2_vod__c:',
        '    table: calls',
        '    key: call_id',
        '    fields:',
        '      call_id: Id',
        '      channel: Call_Channel_vod__c',
        '  ObjectTerritory2Association: false',
      ].join('\n'),
    )
    const m = loadMapping(file)
    expect(m.objects.Call2_vod__c?.fields).toEqual({ call_id: 'Id', channel: 'Call_Channel_vod__c' })
    expect(m.objects.Call2_vod__c?.mode).toBe('upsert')
    expect(m.objects.ObjectTerritory2Association).toBeUndefined()
    expect(m.objects.Account).toEqual(DEFAULT_MAPPING.objects.Account)
  })

  it('rejects an unknown field and names it', () => {
    expect(() =>
      parseMapping({ objects: { Account: { tabel: 'hcps', key: 'x', fields: { x: 'Id' } } } }),
    ).toThrow(/objects\.Account.*tabel/)
    expect(() => parseMapping({ objects: {}, extra: 1 })).toThrow(/extra/)
  })

  it('rejects a key that is not mapped, and a field path that is not one', () => {
    expect(() =>
      parseMapping({ objects: { Account: { table: 'hcps', key: 'hcp_id', fields: { npi: 'NPI_vod__c' } } } }),
    ).toThrow(/key 'hcp_id' is not one of the mapped fields/)
    expect(() =>
      parseMapping({
        objects: { Account: { table: 'hcps', key: 'npi', fields: { npi: 'NPI_vod__c; DROP' } } },
      }),
    ).toThrow(/objects\.Account\.fields\.npi/)
  })

  it('refuses a file that is not YAML without echoing it', () => {
    const file = join(dir, 'bad.yaml')
    writeFileSync(file, 'objects: [unclosed')
    expect(() => loadMapping(file)).toThrow(/cannot be read as YAML/)
  })

  it('converts values to what the target columns store', () => {
    expect(convert('true', 'boolean')).toBe(1)
    expect(convert(false, 'boolean')).toBe(0)
    expect(convert('2024-05-01T10:00:00.000+0000', 'date')).toBe('2024-05-01')
    expect(convert('12.5', 'number')).toBe(12.5)
    expect(convert('', 'string')).toBeNull()
    expect(() => convert('soon', 'date')).toThrow(/not a date/)
  })
})
