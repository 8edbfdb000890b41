import { it } from 'vitest'
import { startWidgetHub } from './helpers/crm-widget.ts'

it('dbg', async () => {
  const w = await startWidgetHub()
  for (let i = 0; i < 6; i++) {
    const url = await w.embedUrl(i % 2 ? w.hcps.mine.id : w.hcps.mineToo.id)
    const token = new URL(url).hash.replace('#token=', '')
    let t = performance.now()
    const r = await fetch(`${w.base}/crm/widget/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ tenant: 'acme', token }),
    })
    const s = ((await r.json()) as { session: string }).session
    const ex = performance.now() - t
    t = performance.now()
    await (await fetch(`${w.base}/crm/widget/hcp`, { headers: { authorization: `Bearer ${s}` } })).json()
    console.log('exchange', ex.toFixed(0), 'overview', (performance.now() - t).toFixed(0))
  }
  await w.close()
}, 60000)
