import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { z } from 'zod'
import { HubError } from '../errors.ts'
import type { Connector } from './contract.ts'

/** The connectors a hub loads when HUB_CONNECTORS is not set: the ones installed beside it. */
export const DEFAULT_CONNECTORS = [
  '@nl2q/mcp-server',
  '@nl2q/powerbi-connector',
  '@nl2q/connectors/crm',
  '@nl2q/connectors/boast',
  '@nl2q/connectors/m365',
]

/**
 * The entry files of the connector packages, resolved from the application (the working directory's
 * package.json). A name listed explicitly must resolve; a default one that is not installed is skipped.
 */
function resolveConnectors(names: string[] | undefined, from: string): { name: string; resolved: string }[] {
  const require = createRequire(join(from, 'package.json'))
  const out: { name: string; resolved: string }[] = []
  for (const name of names ?? DEFAULT_CONNECTORS) {
    try {
      out.push({ name, resolved: require.resolve(name) })
    } catch (cause) {
      if (names !== undefined)
        throw new HubError('CONFIG_INVALID', `HUB_CONNECTORS: cannot find the package '${name}'`, { cause })
    }
  }
  return out
}

/**
 * Load connector packages by name, resolved from the application (the working directory's
 * package.json), so that the core never imports a connector. A name listed explicitly must load;
 * a default one that is not installed is skipped.
 */
export async function loadConnectors(
  names: string[] | undefined,
  from = process.cwd(),
): Promise<Connector[]> {
  const out: Connector[] = []
  for (const { name, resolved } of resolveConnectors(names, from)) {
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

/**
 * `nl2q.commands` in a connector's package.json: its top-level CLI commands (name → description),
 * so that `hub --help` lists them without importing the connector. `{}` declares none.
 */
const Commands = z.record(z.string().regex(/^[a-z][a-z0-9-]*$/), z.string())
const PackageJsonSchema = z.object({
  name: z.string(),
  nl2q: z
    .object({
      commands: Commands.optional(),
      /** A package exporting several connectors (`pkg/crm`, `pkg/boast`): commands per subpath. */
      connectors: z.record(z.string(), z.object({ commands: Commands })).optional(),
    })
    .optional(),
})

export interface ConnectorManifest {
  /** The package name. */
  name: string
  /** Its commands, or undefined when the package does not declare them (import it to know). */
  commands: Record<string, string> | undefined
}

/** `@scope/pkg/sub` → [`@scope/pkg`, `sub`]; `pkg` → [`pkg`, undefined]. */
function splitSubpath(name: string): [string, string | undefined] {
  const parts = name.split('/')
  const head = name.startsWith('@') ? 2 : 1
  const sub = parts.slice(head).join('/')
  return [parts.slice(0, head).join('/'), sub === '' ? undefined : sub]
}

/** The commands a connector declares in its package.json, or undefined when it declares none. */
function declaredCommands(name: string, resolved: string): Record<string, string> | undefined {
  const [pkgName, sub] = splitSubpath(name)
  const nl2q = packageJsonOf(pkgName, resolved)?.nl2q
  return sub === undefined ? nl2q?.commands : nl2q?.connectors?.[sub]?.commands
}

/** The package.json of `name` resolved from `from`, found upward from its entry file. */
function packageJsonOf(name: string, resolved: string): z.infer<typeof PackageJsonSchema> | undefined {
  let dir = dirname(resolved)
  for (let depth = 0; depth < 16; depth++) {
    try {
      const pkg = PackageJsonSchema.safeParse(JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')))
      if (pkg.success && pkg.data.name === name) return pkg.data
    } catch {
      // no package.json at this level
    }
    const up = dirname(dir)
    if (up === dir) break
    dir = up
  }
  return undefined
}

/**
 * The connectors `loadConnectors` would load, by their package.json alone — resolved the same way
 * and with the same errors — for the CLI to list their commands without importing them.
 */
export function readConnectorManifests(
  names: string[] | undefined,
  from = process.cwd(),
): ConnectorManifest[] {
  return resolveConnectors(names, from).map(({ name, resolved }) => ({
    name,
    commands: declaredCommands(name, resolved),
  }))
}
