// Calls from the page to the hub (same origin). The session token lives in memory only.

export interface Problem {
  title?: string
  detail?: string
  code?: string
  requestId?: string
}

export class WidgetError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly requestId: string | undefined,
  ) {
    super(message)
  }
}

async function send<T>(path: string, init: RequestInit): Promise<T> {
  const res = await fetch(path, { ...init, credentials: 'omit', cache: 'no-store' })
  const body = (await res.json().catch(() => ({}))) as T & Problem
  if (!res.ok)
    throw new WidgetError(
      body.detail ?? `The hub answered ${res.status}`,
      body.code ?? 'ERROR',
      body.requestId,
    )
  return body
}

export function exchange(tenant: string, token: string) {
  return send<{ session: string; expiresAt: string; hcp: string; overview?: Overview }>(
    '/crm/widget/session',
    {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ tenant, token }),
    },
  )
}

export interface Overview {
  hcp: {
    hcpId: string
    name: string
    specialty: string
    city: string
    state: string
    segment: string
    territory: string
  }
  trend: { weeks: string[]; products: { product: string; trx: number[] }[] }
  rank: { rank: number | null; of: number; trx: number }
  calls: { date: string; channel: string; status: string; product: string | null }[]
  insights: { title: string; text: string; at?: string }[]
}

export interface Answer {
  question: string
  interpretation: string
  warnings: string[]
  columns: { name: string; type: string; label: string }[]
  rows: unknown[][]
  truncated: boolean
}

export const overview = (session: string) =>
  send<Overview>('/crm/widget/hcp', { headers: { authorization: `Bearer ${session}` } })

export const ask = (session: string, question: string) =>
  send<Answer>('/crm/widget/ask', {
    method: 'POST',
    headers: { authorization: `Bearer ${session}`, 'content-type': 'application/json' },
    body: JSON.stringify({ question }),
  })
