import { readFileSync } from 'node:fs'
import { rootCertificates } from 'node:tls'
import { HubError } from '@nl2q/core'
import { Agent, fetch as undiciFetch } from 'undici'

export type Fetch = (input: string, init?: RequestInit) => Promise<Response>

const agents = new Map<string, Agent>()

/**
 * The HTTPS transport of Graph and login calls: undici's fetch over an agent that trusts the system
 * roots plus `ca_file` (never a disabled check). Agents are shared per CA file.
 */
export function transportFor(caFile: string | undefined): Fetch {
  const key = caFile ?? ''
  let agent = agents.get(key)
  if (!agent) {
    let ca: string[] | undefined
    if (caFile) {
      try {
        ca = [...rootCertificates, readFileSync(caFile, 'utf8')]
      } catch (cause) {
        throw new HubError('CONFIG_INVALID', 'm365 ca_file cannot be read', { cause: { cause, caFile } })
      }
    }
    agent = new Agent({
      connect: { ...(ca ? { ca } : {}), timeout: 10_000 },
      headersTimeout: 30_000,
      bodyTimeout: 60_000,
    })
    agents.set(key, agent)
  }
  const dispatcher = agent
  return (input, init) =>
    undiciFetch(input, {
      ...(init as Parameters<typeof undiciFetch>[1]),
      dispatcher,
    }) as unknown as Promise<Response>
}
