import { describe, expect, it } from 'vitest'
import { M365Config } from './config.ts'

const parse = (raw: Record<string, string>) => M365Config.safeParse(raw)
const firstIssue = (raw: Record<string, string>) => {
  const r = parse(raw)
  return r.success ? null : `${String(r.error.issues[0]?.path[0])}: ${r.error.issues[0]?.message}`
}

describe('m365 settings', () => {
  it('reads the group mapping the issue’s command writes', () => {
    const r = parse({ groups: '{"a1b2-c3":{"role":"analyst","attributes":{"territories":"ACM-T01"}}}' })
    expect(r.success && r.data.groups).toEqual({
      'a1b2-c3': { role: 'analyst', attributes: { territories: 'ACM-T01' } },
    })
    expect(parse({}).success && parse({}).data).toMatchObject({
      groups: {},
      group_lookup: 'transitiveMemberOf',
      graph_url: 'https://graph.microsoft.com',
      chunk_kib: 3200,
    })
  })

  it('refuses a mapping that is not JSON, an unknown role or an extra key, naming the setting', () => {
    expect(firstIssue({ groups: '{nope' })).toMatch(/^groups: must be a JSON object/)
    expect(firstIssue({ groups: '{"g1":{"role":"owner"}}' })).toMatch(/^groups: g1\.role/)
    expect(firstIssue({ groups: '{"g1":{"role":"viewer","extra":1}}' })).toMatch(/^groups: g1/)
    expect(firstIssue({ groups: '{"bad id!":{"role":"viewer"}}' })).toMatch(/^groups: /)
  })

  it('wants https for Graph and login, and chunks in multiples of 320 KiB', () => {
    expect(firstIssue({ graph_url: 'http://graph.example' })).toMatch(/^graph_url: must be an https/)
    expect(firstIssue({ chunk_kib: '1000' })).toMatch(/^chunk_kib: must be a multiple of 320/)
    expect(parse({ chunk_kib: '640', graph_url: 'https://localhost:8443/' }).data).toMatchObject({
      chunk_kib: 640,
      graph_url: 'https://localhost:8443',
    })
  })
})
