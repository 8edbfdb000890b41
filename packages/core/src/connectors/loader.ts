import { createRequire } from 'node:module'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { HubError } from '../errors.ts'
import type { Connector } from './contract.ts'

/** The connectors a hub loads when HUB_CONNECTORS is not set: the ones installed beside it. */
export const DEFAULT_CONNECTORS = ['@nl2q/mcp-server', '@nl2q/powerbi-connector']

/**
 * Load connector packages by name, resolved from the application (the working directory's
 * package.json), so that the core never imports a connector. A name listed explicitly must load;
 * a default one that is not installed is skipped.
 */
export async function loadConnectors(
  names: string[] | undefined,
  from = process.cwd(),
): Promise<Connector[]> {
  const explicit = names !== undefined
  const require = createRequire(join(from, 'package.json'))
  const out: Connector[] = []
  for (const name of names ?? DEFAULT_CONNECTORS) {
    let resolved: string
    try {
      resolved = require.resolve(name)
    } catch (cause) {
      if (explicit)
        throw new HubError('CONFIG_INVALID', `HUB_CONNECTORS: cannot find the package '${name}'`, { cause })
      continue
    }
    const mod = (await import(pathToFileURL(resolved).href)) as { default?: Connector }
    if (!mod.default || typeof mod.default.name !== 'string') {
      throw new HubError(
        'CONFIG_INVALID',
        `Connector '${name}' has no default export made with defineConnector()`,
      )
    }
    out.push(mod.default)
  }
  return out
}
