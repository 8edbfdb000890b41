import { HubError } from '@nl2q/core'
import { describe, expect, it } from 'vitest'
import { refusalResult, refusalText } from './refusals.ts'

describe('refusals for the model', () => {
  it('states the code, the suggestions first and how to fix the call', () => {
    const text = refusalText(
      new HubError('UNKNOWN_FIELD', "No measure 'revenu'", {
        details: { field: 'revenu', suggestions: ['revenue', 'net_revenue'], empty: [] },
      }),
    )
    const lines = text.split('\n')
    expect(lines[0]).toBe("UNKNOWN_FIELD: No measure 'revenu'")
    expect(lines[1]).toBe('Suggestions: revenue; net_revenue')
    expect(lines).toContain('field: revenu')
    expect(text).not.toMatch(/empty/)
    expect(lines.at(-1)).toMatch(/^How to fix: /)
  })

  it('never shows the message of an error that is not a HubError', () => {
    const r = refusalResult(new Error('SQLITE_ERROR near "secret_table"'), 'req-1')
    expect(r.isError).toBe(true)
    const text = (r.content as { text: string }[])[0]!.text
    expect(text).not.toContain('secret_table')
    expect(text).toMatch(/^INTERNAL: /)
    expect(text).toContain('Request id: req-1')
  })
})
