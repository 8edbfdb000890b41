// The CRM sidebar: HCP card, TRx trend, rank, recent calls, pushed insights and the ask box.
import 'uplot/dist/uPlot.min.css'
import './styles.css'
import { type Answer, ask, exchange, type Overview, overview, WidgetError } from './api.ts'
import { answerChart, trendChart } from './chart.ts'
import { hostChannel } from './messaging.ts'

interface Boot {
  tenant: string
  origins: string[]
  session?: { token: string; expiresAt: string }
  overview?: Overview
}

const app = document.getElementById('app') as HTMLElement
const boot = JSON.parse(document.getElementById('nl2q-boot')?.textContent ?? '{}') as Boot

/** Build an element; text only (never HTML from data). */
function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  ...children: (Node | string | null)[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag)
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v)
  for (const c of children) if (c !== null) el.append(c)
  return el
}

function showError(err: unknown) {
  const e =
    err instanceof WidgetError ? err : new WidgetError('The widget could not load.', 'ERROR', undefined)
  app.replaceChildren(
    h(
      'section',
      { class: 'error', role: 'alert', 'data-code': e.code },
      h(
        'h1',
        {},
        e.code === 'INVALID_TOKEN' ? 'This link or session is not valid' : 'The widget cannot open',
      ),
      h('p', {}, e.message),
      h('p', { class: 'meta' }, `Error ${e.code}${e.requestId ? ` · request ${e.requestId}` : ''}`),
    ),
  )
  app.setAttribute('aria-busy', 'false')
}

const fmt = new Intl.NumberFormat('en-US')

function table(columns: string[], rows: unknown[][], caption: string) {
  return h(
    'div',
    { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': caption },
    h(
      'table',
      {},
      h('caption', { class: 'sr-only' }, caption),
      h('thead', {}, h('tr', {}, ...columns.map((c) => h('th', { scope: 'col' }, c)))),
      h(
        'tbody',
        {},
        ...rows.map((r) =>
          h('tr', {}, ...r.map((v) => h('td', {}, typeof v === 'number' ? fmt.format(v) : String(v ?? '—')))),
        ),
      ),
    ),
  )
}

function renderAnswer(out: HTMLElement, a: Answer) {
  const parts: (Node | null)[] = [h('p', { class: 'interpretation' }, a.interpretation)]
  for (const w of a.warnings) parts.push(h('p', { class: 'warning' }, w))
  const numeric = a.columns.findIndex((c) => c.type === 'integer' || c.type === 'decimal')
  const chart = h('div', { class: 'chart', 'aria-hidden': 'true' })
  if (numeric > 0 && a.rows.length > 1) parts.push(chart)
  parts.push(
    table(
      a.columns.map((c) => c.label),
      a.rows,
      a.truncated ? 'Answer (first rows)' : 'Answer',
    ),
  )
  out.replaceChildren(...parts.filter((p): p is Node => p !== null))
  if (chart.isConnected)
    answerChart(
      chart,
      a.rows.map((r) => String(r[0] ?? '')),
      a.rows.map((r) => Number(r[numeric] ?? 0)),
      a.columns[numeric]?.label ?? '',
    )
}

function render(
  data: Overview,
  session: string,
  post: (m: { type: 'nl2q:insight' } & Record<string, unknown>) => void,
) {
  const { hcp, trend, rank, calls, insights } = data
  const chart = h('div', {
    class: 'chart',
    id: 'trend',
    role: 'img',
    'aria-label': `Weekly TRx over ${trend.weeks.length} weeks for ${trend.products.map((p) => p.product).join(', ') || 'no product'}`,
  })
  const input = h('input', {
    id: 'ask-q',
    name: 'question',
    type: 'text',
    autocomplete: 'off',
    maxlength: '300',
    placeholder: 'NRx by product last quarter',
  })
  const out = h('div', { id: 'ask-out', 'aria-live': 'polite' })
  const form = h(
    'form',
    { id: 'ask', role: 'search' },
    h('label', { for: 'ask-q' }, `Ask about ${hcp.name}`),
    h('div', { class: 'row' }, input, h('button', { type: 'submit' }, 'Ask')),
  )
  form.addEventListener('submit', (event) => {
    event.preventDefault()
    const q = input.value.trim()
    if (!q) return
    out.replaceChildren(h('p', { class: 'status', role: 'status' }, 'Asking…'))
    ask(session, q).then(
      (a) => renderAnswer(out, a),
      (e: unknown) =>
        out.replaceChildren(
          h('p', { class: 'warning', role: 'alert' }, e instanceof Error ? e.message : 'The question failed'),
        ),
    )
  })
  const sections: (Node | null)[] = [
    h(
      'header',
      {},
      h('h1', {}, hcp.name),
      h('p', { class: 'meta' }, `${hcp.specialty} · ${hcp.city}, ${hcp.state} · segment ${hcp.segment}`),
      h(
        'p',
        { class: 'rank' },
        rank.rank === null
          ? `No TRx in ${hcp.territory} over these weeks`
          : `Rank ${rank.rank} of ${rank.of} in ${hcp.territory} · ${fmt.format(rank.trx)} TRx in ${trend.weeks.length} weeks`,
      ),
    ),
    h(
      'section',
      { 'aria-labelledby': 'trend-h' },
      h('h2', { id: 'trend-h' }, `TRx trend, last ${trend.weeks.length} weeks`),
      chart,
    ),
    insights.length > 0
      ? h(
          'section',
          { 'aria-labelledby': 'ins-h', id: 'insights' },
          h('h2', { id: 'ins-h' }, 'Insights'),
          h('ul', {}, ...insights.map((i) => h('li', {}, h('strong', {}, i.title), ' ', i.text))),
        )
      : null,
    h(
      'section',
      { 'aria-labelledby': 'calls-h' },
      h('h2', { id: 'calls-h' }, 'Recent calls'),
      calls.length > 0
        ? table(
            ['Date', 'Call', 'Product'],
            calls.map((c) => [
              c.date,
              c.status === 'Completed' ? c.channel : `${c.channel} (${c.status})`,
              c.product ?? '—',
            ]),
            'Recent calls',
          )
        : h('p', {}, 'No calls recorded.'),
    ),
    h(
      'section',
      { 'aria-labelledby': 'ask-h' },
      h('h2', { id: 'ask-h', class: 'sr-only' }, 'Ask'),
      form,
      out,
    ),
  ]
  app.replaceChildren(...sections.filter((s): s is Node => s !== null))
  app.setAttribute('aria-busy', 'false')
  trendChart(chart, trend.weeks, trend.products)
  post({ type: 'nl2q:insight', hcp: hcp.hcpId, rank: rank.rank, of: rank.of, trx: rank.trx })
}

async function open(
  session: string,
  started: number,
  post: Parameters<typeof render>[2],
  first: Overview | undefined,
) {
  // the exchange (or the Canvas page) brings the first screen; a reload of it asks again
  const data = first ?? (await overview(session))
  render(data, session, post)
  // Read by the tests and `pnpm bench`: exchange (or page start) → first chart drawn.
  requestAnimationFrame(() => {
    document.documentElement.dataset.chartMs = String(Math.round(performance.now() - started))
  })
}

async function start() {
  let session = boot.session?.token ?? null
  let first = boot.overview
  const channel = hostChannel(boot.origins ?? [], (m) => {
    const begun = performance.now()
    exchange(boot.tenant, m.token)
      .then((s) => {
        session = s.session
        return open(s.session, begun, channel.post, s.overview)
      })
      .catch(showError)
  })
  const started = performance.now()
  if (!session) {
    const token = new URLSearchParams(location.hash.slice(1)).get('token')
    // The one-time token leaves the address bar at once (history, screenshots, shoulder surfing).
    history.replaceState(null, '', location.pathname + location.search)
    if (!token)
      throw new WidgetError(
        'Open the widget from the CRM record: this link has no token.',
        'INVALID_TOKEN',
        undefined,
      )
    const opened = await exchange(boot.tenant, token)
    session = opened.session
    first = opened.overview
  }
  await open(session, started, channel.post, first)
}

start().catch(showError)
