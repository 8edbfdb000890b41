import { readFileSync } from 'node:fs'
import { EnvSchema } from '../config/index.ts'
import type { Connector } from '../connectors/contract.ts'
import { loadConnectors } from '../connectors/loader.ts'
import { HubError } from '../errors.ts'

/** The installed connectors (HUB_CONNECTORS or the defaults), as `hub start` loads them. */
export async function installedConnectors(): Promise<Connector[]> {
  return loadConnectors(EnvSchema.shape.HUB_CONNECTORS.parse(process.env.HUB_CONNECTORS))
}

export async function installedConnector(name: string): Promise<Connector> {
  const all = await installedConnectors()
  const found = all.find((c) => c.name === name)
  if (!found)
    throw new HubError(
      'NOT_FOUND',
      `No connector '${name}' (installed: ${all.map((c) => c.name).join(', ')})`,
    )
  return found
}

/** `name=value` or `name=@file` (the file's content, one trailing newline dropped). */
export function parseAssignments(pairs: string[], allowFiles: boolean): Record<string, string> {
  const out: Record<string, string> = {}
  for (const pair of pairs) {
    const eq = pair.indexOf('=')
    if (eq < 1) throw new HubError('BAD_REQUEST', `Expected name=value, got '${pair.split('=')[0]}…'`)
    const name = pair.slice(0, eq)
    const raw = pair.slice(eq + 1)
    if (allowFiles && raw.startsWith('@')) {
      try {
        out[name] = readFileSync(raw.slice(1), 'utf8').replace(/\r?\n$/, '')
      } catch (cause) {
        throw new HubError('BAD_REQUEST', `Cannot read the file for '${name}'`, { cause })
      }
    } else out[name] = raw
  }
  return out
}

/** `--input '{"since":"2024-01-01"}'` → the parsed JSON (an object, or BAD_REQUEST). */
export function parseInput(text: string | undefined): unknown {
  if (text === undefined) return {}
  try {
    return JSON.parse(text) as unknown
  } catch (cause) {
    throw new HubError('BAD_REQUEST', '--input must be JSON', { cause })
  }
}
