import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { Browser, Frame, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildWidget } from '../packages/connectors/scripts/build-widget.mjs'
import { type HostPage, hostPage, launchChromium } from './helpers/chromium.ts'
import { REP, startWidgetHub, type WidgetHub } from './helpers/crm-widget.ts'

/** The few browser globals the in-page functions below use (this project's tsconfig has no DOM lib). */
interface PageElement {
  id: string
  src: string
  width: number
  height: number
  textContent: string | null
  getAttribute(name: string): string | null
  getContext(
    kind: '2d',
  ): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } | null
  contentWindow: { postMessage(message: unknown, targetOrigin: string): void } | null
}
declare const document: {
  querySelector(selector: string): PageElement | null
  getElementById(id: string): PageElement | null
  createElement(tag: string): PageElement
  activeElement: PageElement | null
  documentElement: { scrollWidth: number }
  body: { append(el: PageElement): void }
}

const ARTIFACTS = join(import.meta.dirname, '..', '.tmp', 'artifacts')

let w: WidgetHub
let browser: Browser
/** Allowed to frame and to exchange messages. */
let allowed: HostPage
/** Allowed to frame, not on the message allow-list. */
let frameOnly: HostPage
/** On no list. */
let stranger: HostPage

beforeAll(async () => {
  await buildWidget()
  ;[w, allowed, frameOnly, stranger] = await Promise.all([
    startWidgetHub(),
    hostPage(),
    hostPage(),
    hostPage(),
  ])
  await w.configure({
    frame_ancestors: `${allowed.origin},${frameOnly.origin}`,
    message_origins: allowed.origin,
  })
  browser = await launchChromium()
}, 120_000)

afterAll(async () => {
  await browser?.close()
  await Promise.all([allowed?.close(), frameOnly?.close(), stranger?.close()])
  await w?.close()
})

/** The host page: the widget in a 320 px sidebar frame, and every message it receives recorded. */
const frameHtml = (src: string) => `<!doctype html><html><head><title>CRM record</title></head><body>
<h1>Account</h1><button id="before">Record actions</button>
<iframe id="w" name="w" title="NL2Q HCP insights" src="${src}" width="320" height="760"></iframe>
<script>window.received = []; addEventListener('message', (e) => received.push({ origin: e.origin, data: e.data }))</script>
</body></html>`

/** Salesforce Canvas: the host POSTs signed_request into the frame. */
const canvasHtml = (action: string, signed: string) => `<!doctype html><html><body>
<form method="post" action="${action}" target="w"><input type="hidden" name="signed_request" value="${signed}"></form>
<iframe name="w" title="NL2Q HCP insights" width="320" height="760"></iframe>
<script>document.forms[0].submit()</script></body></html>`

async function open(host: HostPage, html: string): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage()
  const errors: string[] = []
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text())
  })
  page.on('pageerror', (e) => errors.push(e.message))
  host.setHtml(html)
  await page.goto(`${host.origin}/`)
  return { page, errors }
}

async function widgetFrame(page: Page): Promise<Frame> {
  for (let i = 0; i < 100; i++) {
    const f = page.frames().find((fr) => fr.url().startsWith(w.base))
    if (f) return f
    await page.waitForTimeout(100)
  }
  throw new Error('the widget frame never navigated')
}

async function chartDrawn(frame: Frame): Promise<number> {
  await frame.waitForSelector('html[data-chart-ms]', { timeout: 30_000 })
  return frame.evaluate(() => {
    const canvas = document.querySelector('#trend canvas')
    if (!canvas) return 0
    const { data } = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height)
    let painted = 0
    for (let i = 3; i < data.length; i += 4) if (data[i]! > 0) painted++
    return painted
  })
}

describe('the widget framed by an allowed origin', () => {
  it('renders the trend, answers the ask box by keyboard and posts its insight to the host', async () => {
    const { page, errors } = await open(allowed, frameHtml(await w.embedUrl(w.hcps.mine.id)))
    const frame = await widgetFrame(page)
    expect(await chartDrawn(frame)).toBeGreaterThan(200)
    expect(await frame.textContent('h1')).toBe(w.hcps.mine.name)
    expect(await frame.textContent('.rank')).toMatch(/^Rank \d+ of \d+ in /)
    // the token left the address bar once exchanged
    expect(frame.url()).not.toContain('#token')
    // 320 px: nothing overflows sideways
    expect(await frame.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(320)

    mkdirSync(ARTIFACTS, { recursive: true })
    await page.screenshot({ path: join(ARTIFACTS, 'crm-widget.png') })

    // keyboard only: from the host's button into the frame, to the ask box
    await page.focus('#before')
    let focused = ''
    for (let i = 0; i < 20 && focused !== 'ask-q'; i++) {
      await page.keyboard.press('Tab')
      focused = await frame.evaluate(() => document.activeElement?.id ?? '')
    }
    expect(focused).toBe('ask-q')
    await page.keyboard.type('NRx by product last quarter')
    await page.keyboard.press('Enter')
    await frame.waitForSelector('#ask-out table tbody tr', { timeout: 30_000 })
    expect(await frame.textContent('#ask-out .interpretation')).toContain('this HCP only')
    expect(await frame.locator('#ask-out tbody tr').count()).toBeGreaterThan(0)
    await page.keyboard.press('Tab')
    expect(await frame.evaluate(() => document.activeElement?.textContent)).toBe('Ask')
    await page.keyboard.press('Tab')
    expect(await frame.evaluate(() => document.activeElement?.getAttribute('role'))).toBe('region')

    const received = (await page.evaluate('window.received')) as {
      origin: string
      data: { type: string; hcp: string }
    }[]
    expect(received).toEqual([
      expect.objectContaining({
        origin: w.base,
        data: expect.objectContaining({ type: 'nl2q:insight', hcp: w.hcps.mine.id }),
      }),
    ])
    await page.screenshot({ path: join(ARTIFACTS, 'crm-widget-answer.png') })
    expect(errors).toEqual([])
    await page.close()
  })

  it('opens from a Canvas signed request posted into the frame', async () => {
    const { page, errors } = await open(allowed, canvasHtml(`${w.base}/crm/canvas`, w.signedRequest()))
    const frame = await widgetFrame(page)
    expect(await chartDrawn(frame)).toBeGreaterThan(200)
    expect(await frame.textContent('h1')).toBe(w.hcps.mine.name)
    expect(errors).toEqual([])
    await page.close()
  })

  it('follows the host to another HCP, and ignores messages from other origins or of another shape', async () => {
    const { page } = await open(allowed, frameHtml(await w.embedUrl(w.hcps.mine.id)))
    const frame = await widgetFrame(page)
    await chartDrawn(frame)
    const token = new URL(await w.embedUrl(w.hcps.mineToo.id)).hash.replace('#token=', '')
    const message = { type: 'nl2q:context', hcp: w.hcps.mineToo.id, token }
    // a sibling frame from an origin on no list posts a valid message to the widget
    const sibling = `<!doctype html><script>parent.frames.w.postMessage(${JSON.stringify(message)}, '*')</script>`
    await page.evaluate(
      (src) => {
        const f = document.createElement('iframe')
        f.src = src
        document.body.append(f)
      },
      `${stranger.origin}/sibling?html=${encodeURIComponent(sibling)}`,
    )
    // the right origin with a message of the wrong shape
    await page.evaluate((target) => {
      const f = document.getElementById('w')!
      f.contentWindow!.postMessage({ type: 'nl2q:context', hcp: 42 }, target)
    }, w.base)
    await page.waitForTimeout(1500)
    expect(await frame.textContent('h1')).toBe(w.hcps.mine.name)
    // the token was not spent by the ignored message: the host's own message now switches the HCP
    await page.evaluate(
      ([msg, target]) => {
        const f = document.getElementById('w')!
        f.contentWindow!.postMessage(msg, target as string)
      },
      [message, w.base] as const,
    )
    await frame.waitForFunction(
      (name) => document.querySelector('h1')?.textContent === name,
      w.hcps.mineToo.name,
      {
        timeout: 30_000,
      },
    )
    await page.close()
  })
})

describe('framing refused', () => {
  it('is blocked by CSP in a page of an origin not on the allow-list', async () => {
    const url = await w.embedUrl(w.hcps.mine.id)
    const { page, errors } = await open(stranger, frameHtml(url))
    await page.waitForTimeout(1000)
    for (let i = 0; i < 50 && !errors.some((e) => e.includes('frame-ancestors')); i++)
      await page.waitForTimeout(100)
    expect(errors.some((e) => e.includes('frame-ancestors'))).toBe(true)
    const child = page.frames().find((f) => f !== page.mainFrame())
    const app = await child
      ?.evaluate(() => document.getElementById('app')?.textContent ?? null)
      .catch(() => null)
    expect(app ?? null).toBeNull()
    // the link was never used: it still opens where framing is allowed
    const ok = await open(allowed, frameHtml(url))
    expect(await chartDrawn(await widgetFrame(ok.page))).toBeGreaterThan(0)
    await Promise.all([page.close(), ok.page.close()])
  })

  it('never posts to a parent that may frame it but is not on the message allow-list', async () => {
    const { page } = await open(frameOnly, frameHtml(await w.embedUrl(w.hcps.mine.id)))
    const frame = await widgetFrame(page)
    expect(await chartDrawn(frame)).toBeGreaterThan(0)
    await page.waitForTimeout(500)
    expect(await page.evaluate('window.received')).toEqual([])
    await page.close()
  })
})

describe('refusals show a clear page', () => {
  async function errorOf(html: string): Promise<{ code: string; text: string }> {
    const { page } = await open(allowed, html)
    const frame = await widgetFrame(page)
    const section = await frame.waitForSelector('.error[role=alert]', { timeout: 30_000 })
    const out = {
      code: (await section.getAttribute('data-code')) ?? '',
      text: (await section.textContent()) ?? '',
    }
    expect(out.text).not.toMatch(/at .+:\d+:\d+|Error: /)
    await page.close()
    return out
  }

  it('for an expired embed link', async () => {
    const now = Math.floor(Date.now() / 1000)
    const token = await w.forgeEmbedToken({
      sub: REP.userName,
      hcp: w.hcps.mine.id,
      iat: now - 400,
      exp: now - 60,
    })
    const e = await errorOf(frameHtml(`${w.base}/crm/widget?tenant=acme#token=${token}`))
    expect(e).toMatchObject({ code: 'INVALID_TOKEN' })
    expect(e.text).toContain('expired')
  })

  it('for a tampered embed link', async () => {
    const url = await w.embedUrl(w.hcps.mine.id)
    const e = await errorOf(frameHtml(`${url.slice(0, -4)}AAAA`))
    expect(e.code).toBe('INVALID_TOKEN')
    expect(e.text).toContain('not valid')
  })

  it('for a replayed embed link', async () => {
    const url = await w.embedUrl(w.hcps.mine.id)
    const first = await open(allowed, frameHtml(url))
    await chartDrawn(await widgetFrame(first.page))
    await first.page.close()
    const e = await errorOf(frameHtml(url))
    expect(e.text).toContain('already used')
  })

  it('for an expired Canvas signed request', async () => {
    const signed = w.signedRequest({ issuedAt: Math.floor(Date.now() / 1000) - 3600 })
    const e = await errorOf(canvasHtml(`${w.base}/crm/canvas`, signed))
    expect(e.code).toBe('INVALID_TOKEN')
    expect(e.text).toContain('has expired')
  })
})
