import { describe, expect, it } from 'vitest'
import { noteAuditAppend, withRequestAuditScope } from './request-scope.ts'

const tick = () => new Promise((r) => setImmediate(r))

describe('request audit scopes', () => {
  it('notes a refusal appended for the request, whatever async work came between', async () => {
    const scope = await withRequestAuditScope('req-1', async () => {
      await tick()
      noteAuditAppend('req-1', 'success')
      await tick()
      noteAuditAppend('req-1', 'denied')
    })
    expect(scope.refusalAudited).toBe(true)
  })

  it('does not take a refusal of another request, or one appended after the request ended', async () => {
    const other = withRequestAuditScope('req-b', async () => {
      await tick()
      await tick()
    })
    const scope = await withRequestAuditScope('req-a', async () => {
      await tick()
      noteAuditAppend('req-b', 'failure')
    })
    noteAuditAppend('req-a', 'failure')
    expect(scope.refusalAudited).toBe(false)
    expect((await other).refusalAudited).toBe(true)
  })

  it('marks neither of two requests in flight with the same id, so each audits its own refusal', async () => {
    let release: () => void = () => {}
    const gate = new Promise<void>((r) => {
      release = r
    })
    const first = withRequestAuditScope('same', () => gate)
    const second = withRequestAuditScope('same', async () => {
      noteAuditAppend('same', 'denied')
    })
    expect((await second).refusalAudited).toBe(false)
    release()
    expect((await first).refusalAudited).toBe(false)
    // once alone again, the id is unambiguous
    const third = await withRequestAuditScope('same', async () => noteAuditAppend('same', 'invalid'))
    expect(third.refusalAudited).toBe(true)
  })
})
