import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { type Browser, chromium } from 'playwright-core'

/** Debian's chromium (.ci/run installs it); playwright-core drives it, it downloads no browser. */
export const CHROMIUM = process.env.NL2Q_CHROMIUM ?? '/usr/bin/chromium'

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  })
}

/** A page on its own loopback origin (a stand-in for the CRM's page that frames the widget). */
export interface HostPage {
  origin: string
  /** What GET / answers from now on. */
  setHtml(html: string): void
  close(): Promise<void>
}

export async function hostPage(): Promise<HostPage> {
  let html = '<!doctype html><title>host</title>'
  const server: Server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' })
    res.end(req.url?.startsWith('/sibling') ? decodeURIComponent(req.url.split('?html=')[1] ?? '') : html)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    setHtml: (h) => {
      html = h
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
